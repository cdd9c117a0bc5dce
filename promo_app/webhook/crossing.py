"""When a program's pool crosses: its state now, in the words of alerts.py (the page's
pool-low warning and `promo stats --check`), against the state last reported, which
`promo_webhook_state` keeps for every worker and across restarts.

"low" is reported once when the pool goes below the threshold, "empty" once when it runs
out (only "empty" when both happen between two looks); neither again until a look finds the
pool at or above the threshold (refilled by an import or generate) and sets it back to "ok".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..alerts import EMPTY, LOW, pool_state
from ..models import LoyaltyProgram, PromoCode, WebhookState
from ..pool import pool_head

OK = "ok"
_RANK = {OK: 0, LOW: 1, EMPTY: 2}


def _free_codes_query() -> Select:
    """Count the program's free, unexpired codes on the pool's index, up to `limit`: the
    look costs the same however large the pool is."""
    codes = PromoCode.__table__
    unexpired = or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now"))
    head = pool_head().where(unexpired).limit(bindparam("limit")).subquery()
    return select(func.count()).select_from(head)


_FREE_CODES = _free_codes_query()
_PROGRAM = select(LoyaltyProgram.name, LoyaltyProgram.universal).where(
    LoyaltyProgram.id == bindparam("loyalty_id")
)


def look(
    connection: Connection, loyalty_id: int, threshold: int, now: datetime
) -> dict[str, Any] | None:
    """The program as `stats` shows it (loyalty_id, name, kind, free, pool), with its free
    codes counted up to the threshold; None for a program that is gone."""
    found = connection.execute(_PROGRAM, {"loyalty_id": loyalty_id}).first()
    if found is None:
        return None
    program = {
        "loyalty_id": loyalty_id,
        "name": found.name,
        "kind": "universal" if found.universal else "personal",
        "free": 0,
    }
    if not found.universal:
        # At least 1: with a threshold of 0 a pool is only ever empty or not.
        limit = max(threshold, 1)
        params = {"program_id": loyalty_id, "now": now, "limit": limit}
        program["free"] = connection.execute(_FREE_CODES, params).scalar_one()
    program["pool"] = pool_state(program, threshold)
    return program


def record(connection: Connection, loyalty_id: int, state: str, now: datetime) -> bool:
    """Remember `state` as the program's, if it is a crossing; return whether it is one to
    report (to "low" or "empty"). Of several processes that see one crossing, one wins: the
    row is changed only from the state read. The caller commits."""
    table = WebhookState.__table__
    last = connection.execute(
        select(table.c.state).where(table.c.loyalty_id == loyalty_id)
    ).scalar()
    if last is None:
        if state == OK:
            return False
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(table).values(loyalty_id=loyalty_id, state=state, changed=now)
                )
        except IntegrityError:
            return False  # another process recorded it first (or the program is gone)
        return True
    if state == last or (state != OK and _RANK[state] < _RANK[last]):
        # Partly refilled but still low, or still the same: nothing new to say.
        return False
    changed = connection.execute(
        update(table)
        .where(table.c.loyalty_id == loyalty_id, table.c.state == last)
        .values(state=state, changed=now)
    )
    return changed.rowcount == 1 and state != OK
