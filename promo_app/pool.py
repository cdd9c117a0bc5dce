"""The pool's upkeep: free codes that a draw finds expired leave the draw's index.

A draw takes the head of the pool (the oldest free code) and checks its expiry on the row.
When the head has expired, the draw marks the expired codes at the head `lapsed`, which
takes them out of the partial index the draw walks, so that no later draw passes over them
again: a draw's cost does not grow with the expired codes of its program (figures in
bench/RESULTS.md, "expired codes ahead"). Changing a code's expiry clears the mark.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Update, bindparam, false, select, update
from sqlalchemy.engine import Connection

from .db.direct import DirectStatement
from .models import PromoCode

# Codes looked at per statement of a sweep. On PostgreSQL a larger chunk makes the planner
# join the chunk to the table by a sequential scan of the whole table.
CHUNK = {"sqlite": 10_000}
DEFAULT_CHUNK = 1_000
# Codes one draw marks at most, so that no single call holds the write lock (SQLite) or its
# client for seconds: a mark costs microseconds on SQLite, tens of microseconds on
# PostgreSQL (a new row version); the next draws go on from there (bench/RESULTS.md).
BUDGET = {"sqlite": 100_000}
DEFAULT_BUDGET = 5_000


def pool_head(codes=PromoCode.__table__):
    """The pool of a program in the order a draw takes it: the head is the oldest free code.

    `loyalty_id BETWEEN p AND p` ordered by (loyalty_id, id) rather than `= p` ordered by
    id: only the pool's index (and the program's) give that order, so PostgreSQL's planner
    cannot choose the primary key and walk past the codes that left the pool, as it does
    while its statistics are stale (right after a sweep).
    """
    return (
        select(codes.c.id)
        .where(
            codes.c.loyalty_id.between(bindparam("program_id"), bindparam("program_id")),
            codes.c.free,
            codes.c.lapsed == false(),
        )
        .order_by(codes.c.loyalty_id, codes.c.id)
    )


def _sweep_statement() -> Update:
    """Mark lapsed the expired codes among the next chunk of the pool after id `after`."""
    codes = PromoCode.__table__
    chunk = (
        pool_head()
        .where(codes.c.id > bindparam("after"))
        .limit(bindparam("chunk"))
        .with_for_update(skip_locked=True)  # PostgreSQL: two sweeps share the work
    )
    return (
        update(codes)
        .where(codes.c.id.in_(chunk), codes.c.expire_date <= bindparam("now"))
        .values(lapsed=True)
        .returning(codes.c.id)
    )


_SWEEP = DirectStatement(_sweep_statement())


def sweep_expired(connection: Connection, program_id: int, now: datetime) -> int:
    """Take the expired codes at the head of the pool of `program_id` out of the draw's
    index, up to the first unexpired one (or the dialect's budget); return how many."""
    dialect = connection.dialect.name
    chunk = CHUNK.get(dialect, DEFAULT_CHUNK)
    budget = BUDGET.get(dialect, DEFAULT_BUDGET)
    swept, after = 0, 0
    while swept < budget:
        params = {"program_id": program_id, "after": after, "chunk": chunk, "now": now}
        ids = [row[0] for row in _SWEEP.rows(connection, params)]
        swept += len(ids)
        if len(ids) < chunk:
            break  # this chunk held an unexpired code (or the pool ended): the head is fresh
        after = max(ids)
    return swept
