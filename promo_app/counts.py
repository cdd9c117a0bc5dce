"""A program's counts of codes by status, at the same cost at any number of codes.

Triggers (revision 0009) add each change's delta to `promo_program_count` in the change's
own transaction: the number of codes, and of those voided, activated, given out
(`attached`), and `unused` (none of these). A program's counts are the sums of its rows:
a few per day its codes expire on, times the slots PostgreSQL's writers spread over.

Whether an unused code is expired or free depends on the time, which no trigger sees. The
rows are keyed by the day a code expires on, so the unused codes of past days are expired
and those of days to come free, exactly; only the codes expiring today are counted, those
whose expiry has passed, through the index on (program, expiry). That count costs as many
index entries as codes of the program expired earlier today, not its size.

The statuses are those of page/queries.py: voided, activated, attached, expired, free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from .models import Attachment, ProgramCount, PromoCode

# The expires_day of codes that never expire (as revision 0009 writes it).
NO_EXPIRY = 2_147_483_647
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Counts:
    total: int = 0
    free: int = 0
    attached: int = 0
    activated: int = 0
    expired: int = 0
    voided: int = 0

    @property
    def given_out(self) -> int:
        """Codes given out: attached or activated. Expired codes never given out are not."""
        return self.attached + self.activated


def day_of(moment: datetime) -> int:
    """The day (since 1970-01-01, UTC) that `moment` falls on, as the triggers count it."""
    return (moment - EPOCH).days


def count_programs(
    session: Session, now: datetime, loyalty_ids: Iterable[int] | None = None
) -> dict[int, Counts]:
    """Return the counts of every program (or of those named) that has had codes."""
    today = day_of(now)
    rows = ProgramCount
    query = select(
        rows.loyalty_id,
        func.sum(rows.codes),
        func.sum(rows.unused),
        func.sum(rows.attached),
        func.sum(rows.activated),
        func.sum(rows.voided),
        func.sum(case((rows.expires_day < today, rows.unused), else_=0)),
        func.sum(case((rows.expires_day == today, rows.unused), else_=0)),
    ).group_by(rows.loyalty_id)
    if loyalty_ids is not None:
        query = query.where(rows.loyalty_id.in_(list(loyalty_ids)))
    counted = {}
    for program, total, unused, attached, activated, voided, past, today_unused in session.execute(
        query
    ):
        expired = int(past)
        if today_unused:
            expired += expired_today(session, program, now)
        counted[program] = Counts(
            total=int(total),
            free=int(unused) - expired,
            attached=int(attached),
            activated=int(activated),
            expired=expired,
            voided=int(voided),
        )
    return counted


def program_size(session: Session, loyalty_id: int) -> int:
    """The number of codes of a program, as the counters hold it in `session`'s transaction."""
    rows = ProgramCount
    total = session.scalar(select(func.sum(rows.codes)).where(rows.loyalty_id == loyalty_id))
    return int(total or 0)


def expired_today(session: Session, loyalty_id: int, now: datetime) -> int:
    """Count the unused codes of a program whose expiry passed earlier today."""
    given = or_(
        and_(not_(PromoCode.universal), not_(PromoCode.free)),
        and_(PromoCode.universal, exists().where(Attachment.code_id == PromoCode.id)),
    )
    since = EPOCH + timedelta(days=day_of(now))
    return session.scalar(
        select(func.count()).where(
            PromoCode.loyalty_id == loyalty_id,
            PromoCode.expire_date >= since,
            PromoCode.expire_date <= now,
            PromoCode.voided.is_(None),
            PromoCode.activated.is_(None),
            not_(given),
        )
    )
