"""Single promo codes: what a code may be, and the verbs on one code (get, activate, update,
detach), and the export of a program's codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Session

from .errors import (
    AttachedToSeveralProfiles,
    CodeExpired,
    InvalidInput,
    LoyaltyProgramNotFound,
    NotAttached,
    PromoCodeNotFound,
)
from .models import Attachment, LoyaltyProgram, Profile, PromoCode
from .profiles import ProfileRef
from .times import rfc3339, utcnow

MAX_CODE_LENGTH = 255


class InvalidCode(InvalidInput):
    """A string that cannot be a promo code; the message says why."""


def normalize_code(raw: str) -> str:
    """Return `raw` as a promo code (surrounding white space trimmed) or raise InvalidCode."""
    code = raw.strip()
    if not code:
        raise InvalidCode("A promo code must not be empty.")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidCode(f"A promo code has at most {MAX_CODE_LENGTH} characters.")
    if not code.isprintable():
        raise InvalidCode("A promo code must not contain control characters.")
    return code


def prefix_condition(session: Session, prefix: str) -> ColumnElement[bool]:
    """Return the condition `code starts with prefix`, exact and case-sensitive, as bound values.

    SQLite's LIKE ignores case, so there a range on the (binary-ordered) code does it and
    uses the unique index; PostgreSQL's LIKE is exact, and a range is not under a locale
    collation, so there it is LIKE with the wildcards of the prefix escaped.
    """
    if session.get_bind(PromoCode).dialect.name == "sqlite":
        upper = _prefix_upper_bound(prefix)
        condition = PromoCode.code >= prefix
        return condition if upper is None else and_(condition, PromoCode.code < upper)
    return PromoCode.code.startswith(prefix, autoescape=True)


def _prefix_upper_bound(prefix: str) -> str | None:
    """Return the least string greater than every string that starts with `prefix`."""
    chars = list(prefix)
    while chars:
        point = ord(chars.pop()) + 1
        if 0xD800 <= point <= 0xDFFF:  # surrogates cannot be stored: skip them
            point = 0xE000
        if point <= 0x10FFFF:
            return "".join(chars) + chr(point)
    return None


def get_program(session: Session, loyalty_id: int) -> LoyaltyProgram:
    program = session.get(LoyaltyProgram, loyalty_id)
    if program is None:
        raise LoyaltyProgramNotFound()
    return program


class ProgramRef(NamedTuple):
    """A loyalty program as a call needs it: its id, the kind of code it makes, and whether
    a profile draws at most one code of it."""

    id: int
    universal: bool
    one_per_profile: bool = False


def is_expired(code: PromoCode, now: datetime) -> bool:
    return code.expire_date is not None and code.expire_date <= now


def find_code(
    session: Session, program: LoyaltyProgram | ProgramRef, code: str
) -> PromoCode | None:
    return session.scalar(
        select(PromoCode).where(PromoCode.loyalty_id == program.id, PromoCode.code == code)
    )


def get_code(session: Session, program: LoyaltyProgram | ProgramRef, code: str) -> PromoCode:
    """Return `code` of `program`, or fail with Promo code not found."""
    promo = find_code(session, program, code)
    if promo is None:
        raise PromoCodeNotFound()
    return promo


def code_state(session: Session, promo: PromoCode, now: datetime | None = None) -> dict[str, Any]:
    """Describe a code as the `get` verb answers it.

    `attached` is the time of the code's earliest attachment that still exists (for a
    personal code its only one); `database_id` and `profile_id` name the profile of that
    attachment, and are absent when the code is attached to nobody (as the platform
    answers). `expired` is the expiry time once it has passed.
    """
    now = now or utcnow()
    first = session.execute(
        select(Attachment.attached, Profile.db_id, Profile.profile_id)
        .join(Profile, Profile.id == Attachment.profile_pk)
        .where(Attachment.code_id == promo.id)
        .order_by(Attachment.attached, Attachment.id)
        .limit(1)
    ).first()
    expired = is_expired(promo, now)
    state = {
        "code": promo.code,
        "loyalty_id": promo.loyalty_id,
        "created": rfc3339(promo.created),
        "is_attached": first is not None,
        "attached": rfc3339(first.attached if first else None),
        "is_activated": promo.activated is not None,
        "activated": rfc3339(promo.activated),
        "is_expired": expired,
        "expired": rfc3339(promo.expire_date) if expired else "",
        "expire_date": rfc3339(promo.expire_date),
    }
    if first is not None:
        state["database_id"] = first.db_id
        state["profile_id"] = first.profile_id
    return state


def is_attached(session: Session, promo: PromoCode) -> bool:
    return (
        session.scalar(select(Attachment.id).where(Attachment.code_id == promo.id).limit(1))
        is not None
    )


def activate_code(session: Session, promo: PromoCode, now: datetime | None = None) -> None:
    """Mark an attached code used. Activating it again keeps the first activation time."""
    now = now or utcnow()
    if promo.activated is not None:
        return
    if not is_attached(session, promo):
        raise NotAttached()
    if is_expired(promo, now):
        raise CodeExpired()
    promo.activated = now


UNCHANGED: Any = object()


def update_code(
    session: Session,
    promo: PromoCode,
    *,
    activated: bool | None = None,
    expire_date: datetime | None = UNCHANGED,
    now: datetime | None = None,
) -> None:
    """Set or clear a code's activation and expiry; None for `activated` leaves it as it is.

    Setting `activated` on a code that is already activated keeps its first time. A voided
    code cannot be changed: it is expired for good.
    """
    now = now or utcnow()
    if promo.voided is not None:
        raise CodeExpired()
    if activated is True and promo.activated is None:
        promo.activated = now
    elif activated is False:
        promo.activated = None
    if expire_date is not UNCHANGED:
        promo.expire_date = expire_date
        promo.lapsed = False  # back in the pool's index; a draw sweeps it again if expired
    session.flush()


def detach_code(
    session: Session, promo: PromoCode, profile: ProfileRef, *, refuse_shared: bool = False
) -> None:
    """Remove `profile`'s attachment of `promo`; a personal code goes back to the pool.

    A personal code that goes back to the pool is unused again: its activation is cleared,
    so that the next customer who draws it can use it. With `refuse_shared` (the platform's
    rule), a code attached to several profiles is refused and nothing changes.
    """
    if refuse_shared and _holders(session, promo) > 1:
        raise AttachedToSeveralProfiles()
    # One DELETE that says whether it removed the pair: of two concurrent detaches, the
    # second (on PostgreSQL it waits for the first's row lock) removes nothing and gets 409.
    removed = session.execute(
        delete(Attachment)
        .where(Attachment.code_id == promo.id, Attachment.profile_pk == profile.id)
        .returning(Attachment.id)
        .execution_options(synchronize_session=False)
    ).first()
    if removed is None:
        raise NotAttached()
    if not promo.universal and promo.voided is None:  # a voided code never goes back
        promo.free = True
        promo.activated = None
    session.flush()


def _holders(session: Session, promo: PromoCode) -> int:
    return session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.code_id == promo.id)
    )


def export_batches(
    session: Session, loyalty_id: int, batch_size: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """Yield every code of the program `loyalty_id`, `{code, attached?, activated?}`, in
    batches: `attached` (the earliest attachment that exists) and `activated` are RFC 3339
    times, present only when set, so a free code is `{code}` alone.

    Keyset paging in the order of the codes, on the (loyalty_id, code) unique index: each
    batch is one short index range read, whatever the program's size, so memory stays flat
    and the time per code stays the same from the first batch to the last.
    """
    first_attached = (
        select(func.min(Attachment.attached))
        .where(Attachment.code_id == PromoCode.id)
        .correlate(PromoCode)
        .scalar_subquery()
    )
    query = (
        select(PromoCode.code, first_attached, PromoCode.activated)
        .where(PromoCode.loyalty_id == loyalty_id)
        .order_by(PromoCode.code)
        .limit(batch_size)
    )
    last_code: str | None = None
    while True:
        page = query if last_code is None else query.where(PromoCode.code > last_code)
        rows = session.execute(page).all()
        if not rows:
            return
        last_code = rows[-1][0]
        yield [export_item(code, attached, activated) for code, attached, activated in rows]
        if len(rows) < batch_size:
            return


def export_item(code: str, attached: datetime | None, activated: datetime | None) -> dict[str, Any]:
    """One item of export_all: the code, and its times where they are set."""
    item: dict[str, Any] = {"code": code}
    if attached is not None:
        item["attached"] = rfc3339(attached)
    if activated is not None:
        item["activated"] = rfc3339(activated)
    return item
