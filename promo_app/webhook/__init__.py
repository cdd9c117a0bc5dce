"""The alert webhook (PROMO_WEBHOOK_URL): a signed JSON event when a program's pool crosses
its low threshold or runs out, sent after the attach that caused it, from threads of the
process, never slowing or failing that attach. Without the setting: no thread, no work.

`note_drawn` is the one call on the attach path; `install` sets a watch up for an app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from ..times import utcnow
from .crossing import record
from .delivery import Settings, WebhookSettingError, deliver, make_event
from .watch import install as _install
from .watch import note_drawn, uninstall, watch_of

__all__ = ["WebhookSettingError", "install", "note_drawn", "notify", "uninstall", "watch_of"]


def install(app: Flask, engine: Engine) -> None:
    """Set up the watch of `app`'s promo engine if PROMO_WEBHOOK_URL is set (threads start
    with the first attach of each process). Bad settings refuse to start the app."""
    settings = Settings.from_config(app.config)
    if settings is not None:
        _install(engine, settings)


def notify(config: Mapping[str, Any], engine: Engine, programs: list[dict[str, Any]]) -> int:
    """Report the crossings among `programs` (rows of `stats`, with their "pool") as the
    watch does, sending each event now with its retries; return how many were taken.
    Raises WebhookSettingError without PROMO_WEBHOOK_URL."""
    settings = Settings.from_config(config)
    if settings is None:
        raise WebhookSettingError("--notify needs PROMO_WEBHOOK_URL (and PROMO_WEBHOOK_SECRET).")
    sent = 0
    for program in programs:
        if program["kind"] != "personal":
            continue
        now = utcnow()
        with engine.connect() as connection:
            crossed = record(connection, program["loyalty_id"], program["pool"], now)
            connection.commit()
        if crossed:
            sent += deliver(settings, make_event(program, settings.threshold, now))
    return sent
