"""Idempotency keys: a writing call made with a key answers once; the same key with the same
parameters gets that first answer back without the work being done again.

A key is claimed by a row inserted in the call's own transaction, before its work, and
filled with the answer in the same transaction: no other transaction ever sees a claim
without its answer. A second call with the key meanwhile waits for the first to end, on
the unique index (PostgreSQL) or SQLite's write lock, then finds its answer; had the first
failed, its claim is gone with its work and the second does the work itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection

from .db.direct import DirectStatement
from .errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from .models import IdempotencyKey
from .times import utcnow

MAX_KEY_LENGTH = 255
# Expired keys one pruning deletes at most, so that it never holds a call up for long.
PRUNE_BATCH = 1000

# Parameters that do not change what a call does.
_NOT_COMPARED = frozenset({"token", "api_token", "format", "idempotency_key"})


def check_key(raw: object) -> str:
    """Return `raw` as an idempotency key, or raise ValueError saying why it is not one."""
    if not isinstance(raw, str):
        raise ValueError("Not a valid string.")
    if not 1 <= len(raw) <= MAX_KEY_LENGTH:
        raise ValueError(f"An idempotency key has 1 to {MAX_KEY_LENGTH} characters.")
    if not raw.isprintable():
        raise ValueError("An idempotency key must not contain control characters.")
    return raw


def request_hash(verb: str, params: Mapping[str, Any]) -> str:
    """Hash a call as the key compares it: the verb and its parameters as loaded (so 5 and
    "5" are the same db_id), without the token, the format and the key itself."""
    compared = {name: value for name, value in params.items() if name not in _NOT_COMPARED}
    text = json.dumps(
        [verb, compared], sort_keys=True, default=_plain, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A flat dataclass (ProfileKey): its fields by name, not what it keeps beside them.
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} cannot be compared as a parameter")


def _dialect_insert(dialect_name: str):
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _statements() -> tuple[DirectStatement, dict[str, DirectStatement], DirectStatement]:
    """Build once: the lookup of a key, its claim (per dialect), and the answer's update."""
    keys = IdempotencyKey.__table__
    find = (
        select(keys.c.request_hash, keys.c.answer)
        .where(
            keys.c.token_id == bindparam("token_id"),
            keys.c.key == bindparam("key"),
            keys.c.created > bindparam("cutoff"),
        )
        .limit(1)
    )
    claims = {}
    for name in ("sqlite", "postgresql"):
        insert = _dialect_insert(name)(keys).values(
            token_id=bindparam("token_id"),
            key=bindparam("key"),
            request_hash=bindparam("request_hash"),
            created=bindparam("now"),
        )
        # An expired row of the same key is taken over; a live one is left alone (no row).
        claims[name] = DirectStatement(
            insert.on_conflict_do_update(
                index_elements=[keys.c.token_id, keys.c.key],
                set_={
                    "request_hash": insert.excluded.request_hash,
                    "answer": None,
                    "created": insert.excluded.created,
                },
                where=keys.c.created <= bindparam("cutoff"),
            ).returning(keys.c.id)
        )
    answer = (
        update(keys).where(keys.c.id == bindparam("claim_id")).values(answer=bindparam("answer"))
    )
    return DirectStatement(find), claims, DirectStatement(answer)


_FIND, _CLAIM, _ANSWER = _statements()

# Claims made by this process; every `prune_every`-th also deletes expired keys.
_CLAIMS = itertools.count()


def answer_once(
    connection: Connection,
    *,
    token_id: int,
    key: str,
    call_hash: str,
    ttl: timedelta,
    prune_every: int,
    work: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Return the answer of the call keyed `key` for the token, and whether it is a replay.

    The first call runs `work` (the verb, on `connection`'s transaction) and stores what it
    returns (the envelope's body, as JSON). The caller commits; if `work` raises, nothing
    is stored, so the call may be made again with the same key.
    """
    now = utcnow()
    cutoff = now - ttl
    ids = {"token_id": token_id, "key": key, "cutoff": cutoff}
    claim = _CLAIM[connection.dialect.name].rows(
        connection, {**ids, "request_hash": call_hash, "now": now}
    )
    if claim:
        body = work()
        _ANSWER.rows(
            connection, {"claim_id": claim[0][0], "answer": json.dumps(body, separators=(",", ":"))}
        )
        if prune_every > 0 and next(_CLAIMS) % prune_every == 0:
            prune(connection, cutoff)
        return body, False
    # The key is taken: by an earlier call, or by one that committed while this one waited.
    stored = _FIND.rows(connection, ids)
    if not stored:
        raise IdempotencyKeyInProgress()
    [(stored_hash, answer)] = stored
    if stored_hash != call_hash:
        raise IdempotencyKeyReused()
    if answer is None:
        raise IdempotencyKeyInProgress()
    return json.loads(answer), True


def prune(connection: Connection, cutoff: datetime) -> int:
    """Delete up to PRUNE_BATCH keys created at or before `cutoff`; return how many."""
    keys = IdempotencyKey.__table__
    expired = (
        select(keys.c.id)
        .where(keys.c.created <= cutoff)
        .order_by(keys.c.created)
        .limit(PRUNE_BATCH)
    )
    return connection.execute(delete(keys).where(keys.c.id.in_(expired))).rowcount
