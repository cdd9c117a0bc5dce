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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Delete, bindparam, delete, insert, literal_column, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .db.binding import promo_connection
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
PROGRAM_CREATED = "program_created"
PROGRAM_RENAMED = "program_renamed"
PROGRAM_DELETED = "program_deleted"
DATABASE_CREATED = "database_created"
DATABASE_DELETED = "database_deleted"
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
    PROGRAM_CREATED,
    PROGRAM_RENAMED,
    PROGRAM_DELETED,
    DATABASE_CREATED,
    DATABASE_DELETED,
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
    insert(Event.__table__).inline().values({name: bindparam(name) for name in _COLUMNS})
)
# The attach's event, the one written most: its kind in the statement, no detail.
_ATTACHED_COLUMNS = ("at", "actor", "db_id", "loyalty_id", "code", "profile_id")
_INSERT_ATTACHED = DirectStatement(
    insert(Event.__table__)
    .inline()
    .values(
        {name: bindparam(name) for name in _ATTACHED_COLUMNS}
        | {"kind": literal_column(f"'{ATTACHED}'")}
    )
)
_WRITTEN = itertools.count(1)


@dataclass(frozen=True)
class _Pruning:
    keep: timedelta
    every: int


# The pruning settings of each app's promo engine, read once when the app is set up.
_PRUNING: WeakKeyDictionary[Engine, _Pruning] = WeakKeyDictionary()


def install(engine: Engine, config: Mapping[str, Any]) -> None:
    """Read the app's PROMO_EVENT_RETENTION_DAYS and PROMO_EVENT_PRUNE_EVERY once, for the
    events written on `engine` (an event then looks up no setting)."""
    days = config.get("PROMO_EVENT_RETENTION_DAYS")
    every = config.get("PROMO_EVENT_PRUNE_EVERY", PRUNE_EVERY)
    if days is not None and every > 0:
        _PRUNING[engine] = _Pruning(timedelta(days=days), every)
    else:
        _PRUNING.pop(engine, None)


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


def record_apart(session: Session, kind: str, actor: str, **fields: Any) -> bool:
    """Record an event of a call that only reads (an export) in a short transaction of
    `session`'s own, committed now. False, nothing recorded, when SQLite's write lock stays
    held past the busy timeout (a long write of another process): the reading goes on."""
    try:
        record(promo_connection(session), kind, actor, **fields)
        session.commit()
    except OperationalError:
        session.rollback()
        return False
    return True


def record_attached(
    connection: Connection,
    actor: str,
    db_id: int,
    loyalty_id: int,
    code: str,
    profile_id: str,
    at: datetime,
) -> None:
    """Append an attachment's event in `connection`'s transaction: record(ATTACHED, ...)
    with the fewest parameters, for the call the shops make most."""
    _INSERT_ATTACHED.rows(
        connection,
        {
            "at": at,
            "actor": actor[:255],
            "db_id": db_id,
            "loyalty_id": loyalty_id,
            "code": code,
            "profile_id": profile_id,
        },
    )
    counted(connection)


def counted(connection: Connection) -> None:
    """Count an event this process wrote in `connection`'s transaction (record does, and the
    PostgreSQL draw that writes its event itself, attach_pg.py); every
    PROMO_EVENT_PRUNE_EVERY-th one also prunes, in that transaction."""
    written = next(_WRITTEN)
    pruning = _PRUNING.get(connection.engine)
    if pruning is not None and written % pruning.every == 0:
        prune(connection, utcnow() - pruning.keep)


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
    return connection.execute(prune_statement(cutoff)).rowcount


def prune_statement(cutoff: datetime) -> Delete:
    events = Event.__table__
    oldest = select(events.c.id, events.c.at).order_by(events.c.id).limit(PRUNE_BATCH).subquery()
    old = select(oldest.c.id).where(oldest.c.at < cutoff)
    return delete(events).where(events.c.id.in_(old))


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
