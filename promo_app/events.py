"""History: every change recorded as an event, in the transaction of the change itself.

An event is one row of `promo_event`, appended and never changed: so it can never
disagree with the data, a rolled-back change leaves no event. A bulk change (an import,
an action on a selection of the page, a generation, a batch of profiles) writes one event
with its counts per transaction, not one per code. Events older than
PROMO_EVENT_RETENTION_DAYS are pruned by the writers themselves, as idempotency keys are
(idempotency.py): every PROMO_EVENT_PRUNE_EVERY-th event a process writes also deletes up
to PRUNE_BATCH old ones, so no cron job is needed and no call is held up for long.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection

from .db.direct import DirectStatement
from .models import Event
from .times import rfc3339, utcnow

# The kinds of events, in the words the page, the CLI and the export use.
ATTACHED = "attached"
DETACHED = "detached"
ACTIVATED = "activated"
UPDATED = "updated"
IMPORTED = "imported"
UPLOADED = "uploaded"
GENERATED = "generated"
EXPORTED = "exported"
EXPIRED = "expired"
VOIDED = "voided"
EXPIRY_SET = "expiry_set"
EXPIRY_CLEARED = "expiry_cleared"
PROFILE_CREATED = "profile_created"
PROFILE_UPDATED = "profile_updated"
PROFILE_DELETED = "profile_deleted"
TOKEN_CREATED = "token_created"
TOKEN_REVOKED = "token_revoked"
ADMIN_SIGNED_IN = "admin_signed_in"
ADMIN_SIGN_IN_FAILED = "admin_sign_in_failed"
KINDS = (
    ATTACHED,
    DETACHED,
    ACTIVATED,
    UPDATED,
    IMPORTED,
    UPLOADED,
    GENERATED,
    EXPORTED,
    EXPIRED,
    VOIDED,
    EXPIRY_SET,
    EXPIRY_CLEARED,
    PROFILE_CREATED,
    PROFILE_UPDATED,
    PROFILE_DELETED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    ADMIN_SIGNED_IN,
    ADMIN_SIGN_IN_FAILED,
)

# The actor of what the command line does, and of the page where the host's own sign-in
# decides (no admin of ours is signed in).
CLI = "cli"
PAGE = "page"

# Events a process writes between two prunings (by default), and old events one pruning
# deletes at most.
PRUNE_EVERY = 100
PRUNE_BATCH = 1000

_COLUMNS = ("at", "kind", "actor", "db_id", "loyalty_id", "code", "profile_id", "detail")
_INSERT = DirectStatement(
    insert(Event.__table__).values({name: bindparam(name) for name in _COLUMNS})
)
_WRITTEN = itertools.count(1)


def record(
    connection: Connection,
    kind: str,
    actor: str,
    *,
    db_id: int | None = None,
    loyalty_id: int | None = None,
    code: str | None = None,
    profile_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append an event in `connection`'s transaction; the caller commits (or rolls back)."""
    _INSERT.rows(
        connection,
        {
            "at": at or utcnow(),
            "kind": kind,
            "actor": actor[:255],
            "db_id": db_id,
            "loyalty_id": loyalty_id,
            "code": code,
            "profile_id": profile_id,
            "detail": _json(detail) if detail else None,
        },
    )
    counted(connection)


def counted(connection: Connection) -> None:
    """Count an event this process wrote in `connection`'s transaction (record does, and the
    PostgreSQL draw that writes its event itself, attach_pg.py); every
    PROMO_EVENT_PRUNE_EVERY-th one also prunes, in that transaction."""
    written = next(_WRITTEN)
    if has_app_context():
        config = current_app.config
        days = config.get("PROMO_EVENT_RETENTION_DAYS")
        every = config.get("PROMO_EVENT_PRUNE_EVERY", PRUNE_EVERY)
        if days is not None and every > 0 and written % every == 0:
            prune(connection, utcnow() - timedelta(days=days))


def _json(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, separators=(",", ":"), default=_plain, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(f"{type(value).__name__} is not a value of an event")


def prune(connection: Connection, cutoff: datetime) -> int:
    """Delete those of the PRUNE_BATCH oldest events (by id) that are from before `cutoff`;
    return how many. Ids grow with time, so the oldest are first: a pruning reads at most
    PRUNE_BATCH rows through the primary key, whatever the table's size, and needs no index
    on the time."""
    events = Event.__table__
    oldest = select(events.c.id, events.c.at).order_by(events.c.id).limit(PRUNE_BATCH).subquery()
    old = select(oldest.c.id).where(oldest.c.at < cutoff)
    return connection.execute(delete(events).where(events.c.id.in_(old))).rowcount


class BatchEvents:
    """The events of a bulk change that commits batch by batch (an upload, a generation):
    `written(counts)` before each commit records what that transaction did, once."""

    def __init__(self, connection_of: Any, kind: str, actor: str, **where: Any) -> None:
        self.connection_of = connection_of  # a callable: the connection of the transaction
        self.kind, self.actor, self.where = kind, actor, where
        self.done: dict[str, int] = {}

    def written(self, counts: Mapping[str, int], **detail: Any) -> None:
        """Record the counts done since the last event, if any."""
        delta = {name: count - self.done.get(name, 0) for name, count in counts.items()}
        if any(delta.values()):
            connection = self.connection_of()
            record(connection, self.kind, self.actor, detail={**detail, **delta}, **self.where)
            self.done = dict(counts)


# Reading ---------------------------------------------------------------------------------


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


def iter_events(
    connection: Connection, where: EventFilter, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Yield the events `where` selects, oldest first, read `batch` at a time by id."""
    events = Event.__table__
    last = 0
    while True:
        query = (
            select(events)
            .where(*_conditions(where), events.c.id > last)
            .order_by(events.c.id)
            .limit(batch)
        )
        rows = connection.execute(query).all()
        for row in rows:
            yield as_data(row)
        if len(rows) < batch:
            return
        last = rows[-1].id


def recent_events(
    connection: Connection, where: EventFilter, limit: int = 50
) -> list[dict[str, Any]]:
    """The last `limit` events `where` selects, newest first."""
    events = Event.__table__
    query = select(events).where(*_conditions(where)).order_by(events.c.id.desc()).limit(limit)
    return [as_data(row) for row in connection.execute(query)]
