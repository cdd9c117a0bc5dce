"""The alert webhook (PROMO_WEBHOOK_URL): a signed JSON event when a program's pool crosses
its low threshold or runs out, sent after the attach that caused it, from threads of the
process, never slowing or failing that attach. Without the setting: no thread, no work.

`note_drawn` is the one call on the attach path; `install` sets a watch up for an app.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import Engine

from .delivery import Settings
from .watch import install as _install
from .watch import note_drawn, uninstall, watch_of

__all__ = ["install", "note_drawn", "uninstall", "watch_of"]


def install(app: Flask, engine: Engine) -> None:
    """Set up the watch of `app`'s promo engine if PROMO_WEBHOOK_URL is set (threads start
    with the first attach of each process). Bad settings refuse to start the app."""
    settings = Settings.from_config(app.config)
    if settings is not None:
        _install(engine, settings)
