"""When each token was last used, written without slowing the API.

The token check runs on every call, the attach hot path included, so a call does not write
the time it was made: a process writes a token's `last_used_at` at most once every
`WRITE_EVERY_SECONDS` (it remembers its last write in memory), in a short transaction of
its own on a connection of its own, before the call's own transaction takes any write
lock. The time shown is therefore "about when": at most that long before the latest call
of any one process. A write that fails (a read-only database, a lock held too long) is
logged and the call goes on; the process tries again after the same interval.
"""

from __future__ import annotations

import logging
import time
from weakref import WeakKeyDictionary

from sqlalchemy import update
from sqlalchemy.engine import Engine

from .models import ApiToken
from .times import utcnow

WRITE_EVERY_SECONDS = 60.0

logger = logging.getLogger(__name__)

# Per engine (each app has its own), the monotonic time of this process's last write of
# each token.
_written: WeakKeyDictionary[Engine, dict[int, float]] = WeakKeyDictionary()


def note_use(engine: Engine, token_id: int) -> None:
    """Record that the token `token_id` is being used, unless this process did so lately."""
    now = time.monotonic()
    written = _written.setdefault(engine, {})
    last = written.get(token_id)
    if last is not None and now - last < WRITE_EVERY_SECONDS:
        return
    written[token_id] = now
    try:
        with engine.begin() as connection:
            connection.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
            )
    except Exception:  # never fail a call for a bookkeeping write
        logger.warning("Could not record the use of API token %s", token_id, exc_info=True)
