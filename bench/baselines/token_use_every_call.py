"""The standalone app writing a token's last use on every call, not once a minute: what
bench/token_last_used.py shows the minute's memory saves."""

from promo_app import create_app, token_use

token_use.WRITE_EVERY_SECONDS = 0.0

app = create_app()
