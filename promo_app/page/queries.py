"""The page's read model: programs counted by status, codes listed and exported. A code's
status, and why the five counts add up to the total: statuses.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    case,
    false,
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from ..codes import prefix_condition
from ..counts import Counts, count_programs
from ..models import Attachment, LoyaltyProgram, Profile, PromoCode
from ..profiles.matching import codes_held_by
from ..times import utcnow
from .statuses import code_status, status_condition

# Counts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSummary:
    """A program with the number of its codes in each status."""

    id: int
    name: str
    universal: bool
    created: datetime
    total: int
    free: int
    attached: int
    activated: int
    expired: int
    voided: int
    one_per_profile: bool = False

    def share(self, status: str) -> float:
        """Return the percentage of the program's codes in `status` (for the usage bar)."""
        return 100.0 * getattr(self, status) / self.total if self.total else 0.0

    @property
    def used(self) -> int:
        """Codes given out: attached or activated. Expired codes never given out are not."""
        return self.attached + self.activated


def program_summaries(
    session: Session, now: datetime | None = None, loyalty_id: int | None = None
) -> list[ProgramSummary]:
    """Return every program (or one) with its counts of codes by status (counts.py: the
    same cost at any number of codes)."""
    now = now or utcnow()
    query = select(LoyaltyProgram).order_by(LoyaltyProgram.id)
    if loyalty_id is not None:
        query = query.where(LoyaltyProgram.id == loyalty_id)
    programs = session.scalars(query).all()
    counted = count_programs(session, now, None if loyalty_id is None else [loyalty_id])
    summaries = []
    for program in programs:
        counts = counted.get(program.id, Counts())
        summaries.append(
            ProgramSummary(
                id=program.id,
                name=program.name,
                universal=program.universal,
                created=program.created,
                total=counts.total,
                free=counts.free,
                attached=counts.attached,
                activated=counts.activated,
                expired=counts.expired,
                voided=counts.voided,
                one_per_profile=program.one_per_profile,
            )
        )
    return summaries


# Listing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeFilter:
    """What the list (and the export, and the actions) selects: one status or all, codes
    starting with a prefix, codes expiring in a range, codes a customer holds."""

    status: str | None = None
    prefix: str = ""
    # Codes that expire within this range (either end may be open).
    expires_from: datetime | None = None
    expires_to: datetime | None = None
    # Codes held by the customers whose `customer_by` (email, phone, profile_id) is this.
    customer: str = ""
    customer_by: str = "email"

    @property
    def narrowed(self) -> bool:
        return bool(
            self.status or self.prefix or self.expires_from or self.expires_to or self.customer
        )

    @property
    def args(self) -> dict[str, str]:
        """The filter as the page's query string spells it."""
        args = {"status": self.status or "", "q": self.prefix}
        if self.customer:
            args.update(customer_by=self.customer_by, customer=self.customer)
        if self.expires_from is not None:
            args["expires_from"] = self.expires_from.date().isoformat()
        if self.expires_to is not None:
            args["expires_to"] = self.expires_to.date().isoformat()
        return {name: value for name, value in args.items() if value}


@dataclass(frozen=True)
class CodeRow:
    """One code as the page and the export show it."""

    id: int
    code: str
    universal: bool
    free: bool
    expire_date: datetime | None
    activated: datetime | None
    voided: datetime | None
    created: datetime
    status: str
    # Who has it: an email (or profile_id) for one profile, "N profiles" for a universal code.
    profile: str
    attached: datetime | None


@dataclass(frozen=True)
class CodePage:
    rows: list[CodeRow]
    # Keyset links: the id to go on from, or None when there is nothing that way.
    older_than: int | None
    newer_than: int | None


_CODE_COLUMNS = (
    PromoCode.id,
    PromoCode.code,
    PromoCode.universal,
    PromoCode.free,
    PromoCode.expire_date,
    PromoCode.activated,
    PromoCode.voided,
    PromoCode.created,
)


def filter_condition(session: Session, where: CodeFilter, now: datetime) -> ColumnElement[bool]:
    """Return the condition of the codes `where` selects (within any program)."""
    conditions: list[ColumnElement[bool]] = []
    if where.status:
        conditions.append(status_condition(where.status, now))
    if not where.prefix.isprintable():
        # No code has control characters (and PostgreSQL refuses NUL in a parameter).
        conditions.append(false())
    elif where.prefix:
        conditions.append(prefix_condition(session, where.prefix))
    if where.expires_from is not None:
        conditions.append(PromoCode.expire_date >= where.expires_from)
    if where.expires_to is not None:
        conditions.append(PromoCode.expire_date <= where.expires_to)
    if where.customer:
        conditions.append(PromoCode.id.in_(codes_held_by(where.customer_by, where.customer)))
    return and_(true(), *conditions)


def filtered_codes(session: Session, loyalty_id: int, where: CodeFilter, now: datetime):
    # Plain rows, not ORM objects: an export reads a million of them.
    query = select(*_CODE_COLUMNS).where(PromoCode.loyalty_id == loyalty_id)
    return query.where(filter_condition(session, where, now))


def list_codes(
    session: Session,
    loyalty_id: int,
    where: CodeFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = 50,
    now: datetime | None = None,
) -> CodePage:
    """Return one page of a program's codes, newest first, from a key (never an OFFSET)."""
    now = now or utcnow()
    query = filtered_codes(session, loyalty_id, where, now)
    if newer_than is not None:
        query = query.where(PromoCode.id > newer_than).order_by(PromoCode.id.asc())
    else:
        if older_than is not None:
            query = query.where(PromoCode.id < older_than)
        query = query.order_by(PromoCode.id.desc())
    codes = list(session.execute(query.limit(size + 1)))
    more = len(codes) > size
    codes = codes[:size]
    if newer_than is not None:
        codes.reverse()
        has_newer, has_older = more, True
    else:
        has_newer, has_older = older_than is not None, more
    rows = code_rows(session, codes, now)
    return CodePage(
        rows=rows,
        older_than=rows[-1].id if rows and has_older else None,
        newer_than=rows[0].id if rows and has_newer else None,
    )


def code_rows(session: Session, codes: list[Row], now: datetime) -> list[CodeRow]:
    """Add who has each code and since when, in one query for the whole batch."""
    holders: dict[int, tuple[int, datetime, str]] = {}
    if codes:
        query = (
            select(
                Attachment.code_id,
                func.count(),
                func.max(Attachment.attached),
                # A deleted profile has no email left; its codes stay taken, shown as its.
                func.max(
                    case(
                        (Profile.deleted.is_not(None), "deleted profile " + Profile.profile_id),
                        else_=func.coalesce(Profile.email, Profile.profile_id),
                    )
                ),
            )
            .join(Profile, Profile.id == Attachment.profile_pk)
            .where(Attachment.code_id.in_([code.id for code in codes]))
            .group_by(Attachment.code_id)
        )
        for code_id, number, attached, who in session.execute(query):
            holders[code_id] = (number, attached, who if number == 1 else f"{number} profiles")
    rows = []
    for code in codes:
        number, attached, who = holders.get(code.id, (0, None, ""))
        rows.append(
            CodeRow(
                id=code.id,
                code=code.code,
                universal=code.universal,
                free=code.free,
                expire_date=code.expire_date,
                activated=code.activated,
                voided=code.voided,
                created=code.created,
                status=code_status(code, number, now),
                profile=who,
                attached=attached,
            )
        )
    return rows
