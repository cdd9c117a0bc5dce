"""Actions on a set of a program's codes: expire now, set or clear the expiry, detach,
mark activated, void.

The set is the program's codes that match a condition (the page's filter) with ids up to
the highest when the merchant looked, so codes added since are left alone. An action
touches only the codes it changes (activating a free code means nothing; a voided code is
never changed again), with the rules of the API's verbs on one code: activate needs an
attached, unexpired code; detach frees a personal code and clears its activation. It runs
in batches of `BATCH` codes, each its own short transaction, so on SQLite no batch holds
the write lock for long and attach calls go on between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Update, and_, case, delete, exists, func, not_, or_, select
from sqlalchemy import update as update_statement
from sqlalchemy.orm import Session

from . import events
from .db.binding import promo_connection
from .models import Attachment, PromoCode
from .times import utcnow

BATCH = 2000

ACTIONS = {
    "expire": "expire now",
    "set_expiry": "set the expiry",
    "clear_expiry": "clear the expiry",
    "detach": "detach from their customers",
    "activate": "mark activated",
    "void": "void (for good)",
}


# What the history calls each action.
EVENT_KINDS = {
    "expire": events.EXPIRED,
    "set_expiry": events.EXPIRY_SET,
    "clear_expiry": events.EXPIRY_CLEARED,
    "detach": events.DETACHED,
    "activate": events.ACTIVATED,
    "void": events.VOIDED,
}


@dataclass(frozen=True)
class Selection:
    """The codes an action is for: program `loyalty_id`'s codes matching `where`, with ids
    up to `max_id`; `expire_date` is the new expiry of ``set_expiry``."""

    loyalty_id: int
    where: ColumnElement[bool]
    max_id: int
    expire_date: datetime | None = None


def highest_id(session: Session, loyalty_id: int) -> int:
    """The id a selection made now goes up to."""
    query = select(func.max(PromoCode.id)).where(PromoCode.loyalty_id == loyalty_id)
    return session.scalar(query) or 0


def _attached() -> ColumnElement[bool]:
    return exists().where(Attachment.code_id == PromoCode.id)


def _unexpired(now: datetime) -> ColumnElement[bool]:
    return or_(PromoCode.expire_date.is_(None), PromoCode.expire_date > now)


def changes(action: str, selection: Selection, now: datetime) -> ColumnElement[bool]:
    """Return the condition of the codes `action` changes."""
    alive = PromoCode.voided.is_(None)
    if action == "expire":
        return and_(alive, _unexpired(now))
    if action == "set_expiry":
        new = selection.expire_date
        if new is None:
            raise ValueError("set_expiry needs an expire_date")
        return and_(alive, or_(PromoCode.expire_date.is_(None), PromoCode.expire_date != new))
    if action == "clear_expiry":
        return and_(alive, PromoCode.expire_date.is_not(None))
    if action == "detach":
        return _attached()
    if action == "activate":
        return and_(alive, PromoCode.activated.is_(None), _attached(), _unexpired(now))
    if action == "void":
        return alive
    raise ValueError(f"Unknown action {action!r}")


def _conditions(selection: Selection, action: str, now: datetime) -> list[ColumnElement[bool]]:
    return [
        PromoCode.loyalty_id == selection.loyalty_id,
        PromoCode.id <= selection.max_id,
        selection.where,
        changes(action, selection, now),
    ]


def count_changed(
    session: Session, selection: Selection, action: str, now: datetime | None = None
) -> int:
    """Return how many codes `action` would change now."""
    now = now or utcnow()
    query = select(func.count()).select_from(PromoCode).where(*_conditions(selection, action, now))
    return session.scalar(query) or 0


def run_action(
    session: Session,
    selection: Selection,
    action: str,
    *,
    batch: int = BATCH,
    now: datetime | None = None,
    actor: str = events.CLI,
    code: str | None = None,
) -> Iterator[int]:
    """Apply `action` to the selection batch by batch, committing each; yield how many
    codes each batch changed. Each batch records one event (of `code`, when the selection
    is that one code) with its count, in its own transaction."""
    now = now or utcnow()
    change = _CHANGES[action]
    last = 0
    while True:
        query = select(PromoCode.id).where(
            *_conditions(selection, action, now), PromoCode.id > last
        )
        ids = list(session.scalars(query.order_by(PromoCode.id).limit(batch)))
        if not ids:
            return
        change(session, ids, now, selection.expire_date)
        detail: dict[str, object] = {"count": len(ids)}
        if action == "set_expiry":
            detail["expire_date"] = selection.expire_date
        events.record(
            promo_connection(session),
            EVENT_KINDS[action],
            actor,
            loyalty_id=selection.loyalty_id,
            code=code,
            detail=detail,
            at=now,
        )
        session.commit()
        last = ids[-1]
        yield len(ids)


def _codes(ids: list[int]) -> Update:
    return (
        update_statement(PromoCode)
        .where(PromoCode.id.in_(ids))
        .execution_options(synchronize_session=False)
    )


def _expire(session: Session, ids: list[int], now: datetime, _value: datetime | None) -> None:
    session.execute(_codes(ids).values(expire_date=now))


def _set_expiry(session: Session, ids: list[int], _now: datetime, value: datetime | None) -> None:
    # A new expiry puts codes a draw found expired back in the pool's index (pool.py).
    session.execute(_codes(ids).values(expire_date=value, lapsed=False))


def _clear_expiry(
    session: Session, ids: list[int], _now: datetime, _value: datetime | None
) -> None:
    session.execute(_codes(ids).values(expire_date=None, lapsed=False))


def _detach(session: Session, ids: list[int], _now: datetime, _value: datetime | None) -> None:
    session.execute(
        delete(Attachment)
        .where(Attachment.code_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    # As the detach verb: a personal code goes back to the pool, unused again; not a voided one.
    session.execute(
        _codes(ids)
        .where(not_(PromoCode.universal), PromoCode.voided.is_(None))
        .values(free=True, activated=None)
    )


def _activate(session: Session, ids: list[int], now: datetime, _value: datetime | None) -> None:
    session.execute(_codes(ids).values(activated=now))


def _void(session: Session, ids: list[int], now: datetime, _value: datetime | None) -> None:
    # Out of the pool, and expired now unless it expired before: attach refuses it as expired.
    expiry = case((_unexpired(now), now), else_=PromoCode.expire_date)
    session.execute(_codes(ids).values(voided=now, free=False, expire_date=expiry))


_CHANGES: dict[str, Callable[[Session, list[int], datetime, datetime | None], None]] = {
    "expire": _expire,
    "set_expiry": _set_expiry,
    "clear_expiry": _clear_expiry,
    "detach": _detach,
    "activate": _activate,
    "void": _void,
}
