"""The statuses of a code, in Python and as SQL.

Every code is in exactly one status, checked in this order:

- ``voided``: the merchant voided it; it is never attached again;
- ``activated``: it has been used (``activated`` is set);
- ``attached``: a personal code given to a profile, or a universal code given to at least one;
- ``expired``: never given out, and its ``expire_date`` has passed;
- ``free``: still to be given out.

So the five counts add up to the total, and ``free`` of a personal program is exactly
what attach calls without a code can still draw.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Row, and_, exists, not_, or_

from ..models import Attachment, PromoCode

if TYPE_CHECKING:
    from .queries import CodeRow

STATUSES = ("free", "attached", "activated", "expired", "voided")


def _is_attached() -> ColumnElement[bool]:
    return or_(
        and_(not_(PromoCode.universal), not_(PromoCode.free)),
        and_(PromoCode.universal, exists().where(Attachment.code_id == PromoCode.id)),
    )


def _is_expired(now: datetime) -> ColumnElement[bool]:
    return and_(PromoCode.expire_date.is_not(None), PromoCode.expire_date <= now)


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """Return the WHERE condition of one status (see the module's docstring)."""
    void = PromoCode.voided.is_not(None)
    if status == "voided":
        return void
    used = PromoCode.activated.is_not(None)
    if status == "activated":
        return and_(not_(void), used)
    if status == "attached":
        return and_(not_(void), not_(used), _is_attached())
    if status == "expired":
        return and_(not_(void), not_(used), not_(_is_attached()), _is_expired(now))
    if status == "free":
        return and_(not_(void), not_(used), not_(_is_attached()), not_(_is_expired(now)))
    raise ValueError(f"Unknown status {status!r}")


def code_status(code: PromoCode | CodeRow | Row, attachments: int, now: datetime) -> str:
    """Return the status of one code the way `status_condition` selects it."""
    if code.voided is not None:
        return "voided"
    if code.activated is not None:
        return "activated"
    if (not code.universal and not code.free) or (code.universal and attachments > 0):
        return "attached"
    if code.expire_date is not None and code.expire_date <= now:
        return "expired"
    return "free"
