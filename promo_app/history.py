"""Reading the history (events.py writes it): a program's or a code's recent events for the
page, every event a filter selects for `promo events`.

The indexes (models/records.py) serve the page's two reads, a program's events and a
code's, newest first, whatever the table's size; the CLI reads in the order of the ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from .models import Event
from .times import rfc3339


@dataclass(frozen=True)
class EventFilter:
    """Which events to read; None: any."""

    since: datetime | None = None
    until: datetime | None = None
    loyalty_id: int | None = None
    code: str | None = None
    profile_id: str | None = None
    kind: str | None = None


def _conditions(where: EventFilter) -> list:
    events = Event.__table__
    conditions = []
    if where.since is not None:
        conditions.append(events.c.at >= where.since)
    if where.until is not None:
        conditions.append(events.c.at < where.until)
    for name in ("loyalty_id", "code", "profile_id", "kind"):
        value = getattr(where, name)
        if value is not None:
            conditions.append(events.c[name] == value)
    return conditions


def as_data(row: Any) -> dict[str, Any]:
    """An event as the CLI and the page show it: plain values, the detail as a mapping."""
    return {
        "id": row.id,
        "at": rfc3339(row.at),
        "kind": row.kind,
        "actor": row.actor,
        "db_id": row.db_id,
        "loyalty_id": row.loyalty_id,
        "code": row.code,
        "profile_id": row.profile_id,
        "detail": json.loads(row.detail) if row.detail else {},
    }


def batch_query(where: EventFilter, last: int, batch: int) -> Select:
    """The next `batch` events `where` selects after id `last`, oldest first."""
    events = Event.__table__
    conditions = (*_conditions(where), events.c.id > last)
    return select(events).where(*conditions).order_by(events.c.id).limit(batch)


def recent_query(where: EventFilter, limit: int) -> Select:
    """The last `limit` events `where` selects, newest first."""
    events = Event.__table__
    return select(events).where(*_conditions(where)).order_by(events.c.id.desc()).limit(limit)


def iter_events(
    connection: Connection, where: EventFilter, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Yield the events `where` selects, oldest first, read `batch` at a time by id."""
    last = 0
    while True:
        rows = connection.execute(batch_query(where, last, batch)).all()
        for row in rows:
            yield as_data(row)
        if len(rows) < batch:
            return
        last = rows[-1].id


def recent_events(
    connection: Connection, where: EventFilter, limit: int = 50
) -> list[dict[str, Any]]:
    """The last `limit` events `where` selects, newest first."""
    return [as_data(row) for row in connection.execute(recent_query(where, limit))]
