"""The standalone app with a token's last use never recorded: the baseline of
bench/token_last_used.py (what the attach path cost before tokens said when they were used)."""

from promo_app import create_app, tokens

tokens.note_use = lambda engine, token_id: None

app = create_app()
