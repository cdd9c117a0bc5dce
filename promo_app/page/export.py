"""The page's export: every code of a filter as CSV rows, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from ..db.binding import reading
from ..models import PromoCode
from ..times import utcnow
from .queries import CodeFilter, CodeRow, code_rows, filtered_codes

EXPORT_COLUMNS = ("code", "status", "profile", "attached", "activated", "expire_date")


def iter_codes(
    session: Session,
    loyalty_id: int,
    where: CodeFilter,
    *,
    batch_size: int = 1000,
    now: datetime | None = None,
) -> Iterator[list[CodeRow]]:
    """Yield all codes of a filter, newest first, in keyset batches.

    Each batch is its own short read-only transaction (ended before it is yielded), so a
    long export never holds SQLite's write lock, nor a snapshot while the client reads.
    """
    now = now or utcnow()
    last: int | None = None
    while True:
        with reading(session):
            query = filtered_codes(session, loyalty_id, where, now)
            if last is not None:
                query = query.where(PromoCode.id < last)
            codes = list(session.execute(query.order_by(PromoCode.id.desc()).limit(batch_size)))
            rows = code_rows(session, codes, now)
        if not rows:
            return
        yield rows
        last = rows[-1].id
