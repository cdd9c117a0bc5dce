"""The attach hot path: a code of the pool, or a named code, attached to a profile.

The call the shops make most runs on a plain connection of the promo engine with
statements built once (`DirectStatement`), not on the ORM session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Insert,
    Select,
    Update,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from .codes import ProgramRef, is_expired
from .db.direct import DirectStatement
from .errors import (
    AlreadyAttached,
    CodeExpired,
    DatabaseNotFound,
    LoyaltyProgramNotFound,
    NoCodesAvailable,
    RaceLost,
)
from .models import Attachment, Database, LoyaltyProgram, PromoCode
from .pool import pool_head, sweep_expired
from .profiles import ProfileRef
from .times import rfc3339, utcnow


def _targets_query() -> Select:
    """Build once the lookup of a call's database and program: one statement, two answers."""
    databases, programs = Database.__table__, LoyaltyProgram.__table__
    program = programs.c.id == bindparam("loyalty_id")
    return select(
        select(databases.c.id).where(databases.c.id == bindparam("db_id")).scalar_subquery(),
        select(programs.c.id).where(program).scalar_subquery(),
        select(programs.c.universal).where(program).scalar_subquery(),
        select(programs.c.one_per_profile).where(program).scalar_subquery(),
    )


_TARGETS_QUERY = DirectStatement(_targets_query())


def find_targets(connection: Connection, db_id: int, loyalty_id: int) -> ProgramRef:
    """Check that database `db_id` and program `loyalty_id` exist; return the program."""
    [(found_db, found_program, universal, one_per_profile)] = _TARGETS_QUERY.rows(
        connection, {"db_id": db_id, "loyalty_id": loyalty_id}
    )
    if found_db is None:
        raise DatabaseNotFound()
    if found_program is None:
        raise LoyaltyProgramNotFound()
    return ProgramRef(found_program, bool(universal), bool(one_per_profile))


@dataclass(frozen=True)
class AttachResult:
    """What a shop learns from an attach: which code its customer got, and when."""

    code: str
    loyalty_id: int
    profile_id: str
    attached: datetime
    # True when this call wrote the attachment (not a retry's answer): the history records it.
    new: bool = False

    def as_data(self) -> dict[str, object]:
        return {
            "code": self.code,
            "loyalty_id": self.loyalty_id,
            "profile_id": self.profile_id,
            "attached": rfc3339(self.attached),
        }


def attach_code(
    connection: Connection,
    program: ProgramRef,
    profile: ProfileRef,
    code: str,
    now: datetime | None = None,
) -> AttachResult:
    """Attach `code` of `program` (created as the program's kind if missing) to `profile`.

    The caller commits. Every step is guarded by the schema's constraints as well,
    so two concurrent calls can never both attach one personal code.
    """
    now = now or utcnow()
    promo = find_or_create_code(connection, program, code)
    attached = _attached_at(connection, promo.id, profile.id)
    if attached is not None:
        return AttachResult(promo.code, program.id, profile.profile_id, attached)
    if promo.voided is not None:
        raise CodeExpired()  # a voided code is expired for good
    if not promo.universal and not promo.free:
        raise AlreadyAttached()
    if is_expired(promo, now):
        raise CodeExpired()
    if not promo.universal and not _take(connection, promo.id):
        # Another call took it between our read and our write (PostgreSQL's row lock
        # made us wait for it); answer as if we had come second, which we did.
        attached = _attached_at(connection, promo.id, profile.id)
        if attached is not None:
            return AttachResult(promo.code, program.id, profile.profile_id, attached)
        raise AlreadyAttached()
    try:
        with connection.begin_nested():
            connection.execute(
                insert(Attachment.__table__).values(
                    code_id=promo.id,
                    profile_pk=profile.id,
                    personal=not promo.universal,
                    attached=now,
                )
            )
    except IntegrityError:
        # A concurrent call attached the same universal code to the same profile.
        attached = _attached_at(connection, promo.id, profile.id)
        if attached is None:
            raise
        return AttachResult(promo.code, program.id, profile.profile_id, attached)
    return AttachResult(promo.code, program.id, profile.profile_id, now, new=True)


def _claim_statements() -> tuple[Update, Update, Insert, Select]:
    """Build the statements of a pool draw once; a draw only binds its values.

    They are Core statements on the tables, prebuilt: the ORM's per-call statement
    building and bulk-update bookkeeping cost more than the database's own work here.
    The draw takes the head of the pool and checks the expiry on that one row; when the
    head has expired, `claim_free_code` sweeps (pool.py) and, if need be, walks on past
    what is left with the expiry in the walk. In a one-per-profile program a take finds
    nothing for a profile that holds a code of the program already, and the attachment
    says which program it counts for, so that its unique index refuses a second one made
    by a concurrent draw.
    """
    codes, attachments = PromoCode.__table__, Attachment.__table__
    programs = LoyaltyProgram.__table__
    unexpired = or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now"))
    one_per_profile = select(programs.c.id).where(
        programs.c.id == bindparam("program_id"), programs.c.one_per_profile
    )
    held = codes.alias("held")
    holding = (
        attachments.c.profile_pk == bindparam("profile"),
        attachments.c.code_id == held.c.id,
        held.c.loyalty_id == bindparam("program_id"),
    )
    holds_one = exists(one_per_profile.where(exists().where(*holding)))

    def take(oldest: Select) -> Update:
        return (
            update(codes)
            .where(codes.c.id == oldest.scalar_subquery(), codes.c.free, unexpired, ~holds_one)
            .values(free=False)
            .returning(codes.c.id, codes.c.code)
        )

    # FOR UPDATE SKIP LOCKED: PostgreSQL; SQLite's BEGIN IMMEDIATE serialises.
    head = pool_head().limit(1).with_for_update(skip_locked=True)
    walk = pool_head().where(unexpired).limit(1).with_for_update(skip_locked=True)
    attach = insert(attachments).values(
        code_id=bindparam("taken_id"),
        profile_pk=bindparam("profile"),
        personal=True,
        attached=bindparam("now"),
        one_per_profile_loyalty_id=one_per_profile.scalar_subquery(),
    )
    held_code = (
        select(held.c.code, attachments.c.attached)
        .where(*holding)
        .order_by(attachments.c.attached, attachments.c.id)
        .limit(1)
    )
    return take(head), take(walk), attach, held_code


_take_head, _take_walk, _attach, _HELD_CODE = _claim_statements()
_TAKE_HEAD, _TAKE_OLDEST_UNEXPIRED, _ATTACH_TAKEN = map(
    DirectStatement, (_take_head, _take_walk, _attach)
)
# _HELD_CODE runs through SQLAlchemy, not direct: it answers a time (SQLite's driver gives
# text), and only a draw that found nothing asks it.

ONE_PER_PROFILE_INDEX = "uq_promo_attachment_one_per_profile"


def claim_free_code(
    connection: Connection, loyalty_id: int, profile: ProfileRef, now: datetime
) -> AttachResult:
    """Take the oldest free, unexpired personal code of program `loyalty_id` and attach it.

    In a one-per-profile program the statements themselves refuse a second code to a
    profile (RaceLost when a concurrent draw has just won)."""
    params = {"program_id": loyalty_id, "profile": profile.id, "now": now}
    taken = _TAKE_HEAD.rows(connection, params)
    if not taken:
        # The head has expired, or the pool is empty: take the expired codes at the head
        # out of the pool, then draw again; a sweep cut short by its budget (or by rows
        # that concurrent draws hold) leaves the rest to a walk that checks each expiry.
        if sweep_expired(connection, loyalty_id, now):
            taken = _TAKE_HEAD.rows(connection, params)
        if not taken:
            taken = _TAKE_OLDEST_UNEXPIRED.rows(connection, params)
        if not taken:
            raise NoCodesAvailable()
    [(taken_id, code)] = taken
    try:
        _ATTACH_TAKEN.rows(connection, {**params, "taken_id": taken_id})
    except IntegrityError as error:
        if _names_one_per_profile_index(error):
            raise RaceLost() from error
        raise
    return AttachResult(code, loyalty_id, profile.profile_id, now, new=True)


def _names_one_per_profile_index(error: IntegrityError) -> bool:
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    return constraint == ONE_PER_PROFILE_INDEX or "one_per_profile_loyalty_id" in str(error.orig)


def held_code(
    connection: Connection, program: ProgramRef, profile: ProfileRef
) -> AttachResult | None:
    """The code of `program` that `profile` holds (its first attached), if it holds one."""
    row = connection.execute(_HELD_CODE, {"program_id": program.id, "profile": profile.id}).first()
    if row is None:
        return None
    return AttachResult(row.code, program.id, profile.profile_id, row.attached)


_CODE_COLUMNS = (
    PromoCode.__table__.c.id,
    PromoCode.__table__.c.code,
    PromoCode.__table__.c.universal,
    PromoCode.__table__.c.free,
    PromoCode.__table__.c.expire_date,
    PromoCode.__table__.c.voided,
)


def find_or_create_code(connection: Connection, program: ProgramRef, code: str) -> Row:
    """Return `code` of `program` (id, code, universal, free, expire_date), creating it as
    the program's default kind if missing."""
    codes = PromoCode.__table__
    query = select(*_CODE_COLUMNS).where(codes.c.loyalty_id == program.id, codes.c.code == code)
    promo = connection.execute(query).first()
    if promo is not None:
        return promo
    try:
        with connection.begin_nested():
            connection.execute(
                insert(codes).values(
                    loyalty_id=program.id,
                    code=code,
                    universal=program.universal,
                    free=not program.universal,
                )
            )
    except IntegrityError:
        pass  # created by a concurrent call since we looked: use that one
    return connection.execute(query).one()


def _take(connection: Connection, code_id: int) -> bool:
    """Mark a personal code as no longer free, if it still is."""
    codes = PromoCode.__table__
    row = connection.execute(
        update(codes)
        .where(codes.c.id == code_id, codes.c.free)
        .values(free=False)
        .returning(codes.c.id)
    ).first()
    return row is not None


def _attached_at(connection: Connection, code_id: int, profile_pk: int) -> datetime | None:
    """When `code_id` was attached to the profile `profile_pk`, if it is."""
    attachments = Attachment.__table__
    return connection.execute(
        select(attachments.c.attached).where(
            attachments.c.code_id == code_id, attachments.c.profile_pk == profile_pk
        )
    ).scalar()
