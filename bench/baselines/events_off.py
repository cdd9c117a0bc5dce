"""The standalone app with the history's events never written: the baseline of
bench/retries.py's "no event" contender (what an attach cost before issue 15 wrote its event,
with everything else of this checkout as it is)."""

from promo_app import create_app, events

events.record = events.record_attached = lambda *args, **kwargs: None

app = create_app()
