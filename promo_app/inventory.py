"""Everyday administration: what the service holds (databases, programs and their pools,
tokens, admins), and renaming, re-dating and deleting it. The CLI calls these; the caller
commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from . import events
from .codes import get_program
from .counts import Counts, count_programs
from .db.binding import promo_connection
from .errors import InvalidInput
from .models import (
    AdminUser,
    ApiToken,
    Attachment,
    CustomField,
    Database,
    LoyaltyProgram,
    Profile,
    ProfileFieldValue,
    PromoCode,
    TokenScope,
)
from .profiles import get_database
from .programs import ProgramNameError
from .times import rfc3339, utcnow


class InventoryError(InvalidInput):
    """Something that cannot be deleted or changed as asked; nothing was changed."""


def list_databases(session: Session) -> list[dict[str, Any]]:
    """Every database with its custom fields and its number of profiles."""
    profiles = select(Profile.db_id, func.count().label("n")).group_by(Profile.db_id).subquery()
    rows = session.execute(
        select(Database, func.coalesce(profiles.c.n, 0))
        .outerjoin(profiles, profiles.c.db_id == Database.id)
        .order_by(Database.id)
    )
    return [
        {
            "db_id": database.id,
            "name": database.name,
            "custom_fields": [field.name for field in database.custom_fields],
            "profiles": count,
            "created": rfc3339(database.created),
        }
        for database, count in rows
    ]


def program_counts(session: Session) -> list[dict[str, Any]]:
    """Every program with its codes: all, free (never given out, unexpired, not voided), and
    given out (attached or activated); read from the kept counts (counts.py)."""
    programs = session.scalars(select(LoyaltyProgram).order_by(LoyaltyProgram.id)).all()
    counted = count_programs(session, utcnow())
    listed = []
    for program in programs:
        counts = counted.get(program.id, Counts())
        listed.append(
            {
                "loyalty_id": program.id,
                "name": program.name,
                "kind": "universal" if program.universal else "personal",
                "codes": counts.total,
                "free": counts.free,
                "attached": counts.given_out,
                "created": rfc3339(program.created),
            }
        )
    return listed


def list_tokens(session: Session) -> list[dict[str, Any]]:
    """Every token: its name, scope (databases and programs, none: all; read only), when
    made, last used (about: see token_use.py) and revoked. Never a secret."""
    tokens = session.scalars(select(ApiToken).order_by(ApiToken.id))
    listed = []
    for token in tokens:
        db_ids = sorted(scope.db_id for scope in token.scopes)
        loyalty_ids = sorted(scope.loyalty_id for scope in token.program_scopes)
        listed.append(
            {
                "name": token.name,
                "db_ids": db_ids,
                "databases": ",".join(map(str, db_ids)) or "all",
                "loyalty_ids": loyalty_ids,
                "programs": ",".join(map(str, loyalty_ids)) or "all",
                "read_only": token.read_only,
                "created": rfc3339(token.created),
                "last_used": rfc3339(token.last_used_at) or None,
                "revoked": rfc3339(token.revoked) or None,
            }
        )
    return listed


def list_admins(session: Session) -> list[dict[str, Any]]:
    admins = session.scalars(select(AdminUser).order_by(AdminUser.name))
    return [{"name": admin.name, "created": rfc3339(admin.created)} for admin in admins]


def attachment_count(session: Session, loyalty_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Attachment)
        .join(PromoCode, PromoCode.id == Attachment.code_id)
        .where(PromoCode.loyalty_id == loyalty_id)
    )


def delete_program(
    session: Session, loyalty_id: int, force: bool = False, actor: str = events.CLI
) -> dict[str, int]:
    """Delete a program with its codes; one whose codes were given out only with `force`
    (their attachments go too). Return what was deleted, which its event records."""
    program = get_program(session, loyalty_id)
    attached = attachment_count(session, loyalty_id)
    if attached and not force:
        raise InventoryError(
            f"Program {loyalty_id} has {attached} attached codes; nothing was deleted. "
            "Add --force to delete it with its codes and their attachments."
        )
    codes = session.scalar(
        select(func.count()).select_from(PromoCode).where(PromoCode.loyalty_id == loyalty_id)
    )
    # Children first: the same on any database, whether it enforces ON DELETE CASCADE or not.
    code_ids = select(PromoCode.id).where(PromoCode.loyalty_id == loyalty_id)
    session.execute(delete(Attachment).where(Attachment.code_id.in_(code_ids)))
    session.execute(delete(PromoCode).where(PromoCode.loyalty_id == loyalty_id))
    name, db_id = program.name, program.db_id
    session.delete(program)
    session.flush()
    deleted = {"codes": codes, "attachments": attached}
    events.record(
        promo_connection(session),
        events.PROGRAM_DELETED,
        actor,
        db_id=db_id,
        loyalty_id=loyalty_id,
        detail={"name": name, **deleted},
    )
    return deleted


def delete_database(session: Session, db_id: int, actor: str = events.CLI) -> dict[str, Any]:
    """Delete a database with its profiles, their attachments and custom fields.

    A token limited to this database alone would be left limited to none, which means every
    database: such tokens are revoked. Codes that were attached stay given out (not free).
    """
    database = get_database(session, db_id)
    profile_ids = select(Profile.id).where(Profile.db_id == db_id)
    profiles = session.scalar(select(func.count()).select_from(profile_ids.subquery()))
    attached = session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.profile_pk.in_(profile_ids))
    )
    other = aliased(TokenScope)
    other_scope = (
        select(other.token_id).where(other.token_id == ApiToken.id, other.db_id != db_id).exists()
    )
    only_here = session.scalars(
        select(ApiToken)
        .join(TokenScope, TokenScope.token_id == ApiToken.id)
        .where(TokenScope.db_id == db_id, ApiToken.revoked.is_(None), ~other_scope)
    ).all()
    now = utcnow()
    for token in only_here:
        token.revoked = now
    session.execute(delete(TokenScope).where(TokenScope.db_id == db_id))
    session.execute(delete(Attachment).where(Attachment.profile_pk.in_(profile_ids)))
    # Bulk statements, children first: the ORM's cascades do not run for them.
    session.execute(delete(ProfileFieldValue).where(ProfileFieldValue.profile_pk.in_(profile_ids)))
    session.execute(delete(Profile).where(Profile.db_id == db_id))
    session.execute(delete(CustomField).where(CustomField.db_id == db_id))
    name = database.name
    session.delete(database)
    session.flush()
    deleted = {
        "profiles": profiles,
        "attachments": attached,
        "revoked_tokens": [token.name for token in only_here],
    }
    connection = promo_connection(session)
    detail = {"name": name, **deleted}
    events.record(connection, events.DATABASE_DELETED, actor, db_id=db_id, detail=detail)
    return deleted


def delete_admin(session: Session, name: str) -> None:
    admin = session.scalar(select(AdminUser).where(AdminUser.name == name.strip()))
    if admin is None:
        raise InventoryError(f"No admin is named {name!r}.")
    session.delete(admin)
    session.flush()


def rename_program(
    session: Session, loyalty_id: int, name: str, actor: str = events.CLI
) -> LoyaltyProgram:
    program = get_program(session, loyalty_id)
    name = name.strip()
    if not name or len(name) > 255:
        raise ProgramNameError("A program name has 1 to 255 characters.")
    old, program.name = program.name, name
    session.flush()
    if old != name:
        events.record(
            promo_connection(session),
            events.PROGRAM_RENAMED,
            actor,
            db_id=program.db_id,
            loyalty_id=loyalty_id,
            detail={"name": [old, name]},
        )
    return program


def set_expiry(session: Session, loyalty_id: int, expire_date: datetime | None) -> int:
    """Give every code of the program this expiry (None: they never expire); return how many."""
    get_program(session, loyalty_id)
    result = session.execute(
        update(PromoCode)
        .where(PromoCode.loyalty_id == loyalty_id)
        # A new expiry puts codes a draw found expired back in the pool's index (pool.py).
        .values(expire_date=expire_date, lapsed=False)
    )
    kind = events.EXPIRY_SET if expire_date is not None else events.EXPIRY_CLEARED
    detail = {"count": result.rowcount, "expire_date": expire_date}
    connection = promo_connection(session)
    events.record(connection, kind, events.CLI, loyalty_id=loyalty_id, detail=detail)
    return result.rowcount
