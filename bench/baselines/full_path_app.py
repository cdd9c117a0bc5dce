"""The service as it was before the one-statement pool draw: wsgi:app with attach_pg.py's
shortcut turned off, so that every attach takes the full path (six statements for a draw on
PostgreSQL). bench/latency_pg.py sets it beside wsgi:app in one run. Not a product path."""

from __future__ import annotations

import promo_app.attach_pg
from wsgi import app

promo_app.attach_pg.try_attach = lambda *args, **kwargs: None

__all__ = ["app"]
