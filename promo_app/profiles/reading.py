"""A profile as `profiles/get` and the page show it: its identifiers, its custom fields,
and every code it holds, in every program."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from ..db.direct import DirectStatement
from ..errors import DatabaseNotFound
from ..models import (
    Attachment,
    CustomField,
    Database,
    LoyaltyProgram,
    Profile,
    ProfileFieldValue,
    PromoCode,
)
from ..times import rfc3339
from .matching import ProfileKey, find_profile


@dataclass(frozen=True)
class HeldCode:
    """A code attached to a profile."""

    code: str
    loyalty_id: int
    program: str
    attached: datetime
    activated: datetime | None
    expire_date: datetime | None

    def as_data(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "loyalty_id": self.loyalty_id,
            "attached": rfc3339(self.attached),
            "activated": rfc3339(self.activated),
            "expire_date": rfc3339(self.expire_date),
        }


@dataclass(frozen=True)
class ProfileData:
    """One profile with its fields (name -> value) and the codes it holds."""

    profile_id: str
    db_id: int
    email: str | None
    phone: str | None
    fields: dict[str, str] = field(default_factory=dict)
    codes: list[HeldCode] = field(default_factory=list)
    deleted: datetime | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "email": self.email or "",
            "phone": self.phone or "",
            # A list, not a mapping: a custom field's name need not be an XML element name.
            "fields": [{"name": name, "value": value} for name, value in self.fields.items()],
            "codes": [code.as_data() for code in self.codes],
        }


def profile_data(connection: Connection, pk: int) -> ProfileData:
    """Read the profile whose row id is `pk`, its fields and its codes (by program, then
    in the order they were attached)."""
    profiles = Profile.__table__
    row = connection.execute(
        select(
            profiles.c.profile_id,
            profiles.c.db_id,
            profiles.c.email,
            profiles.c.phone,
            profiles.c.deleted,
        ).where(profiles.c.id == pk)
    ).one()
    values, fields = ProfileFieldValue.__table__, CustomField.__table__
    named = connection.execute(
        select(fields.c.name, values.c.value)
        .join(fields, fields.c.id == values.c.field_id)
        .where(values.c.profile_pk == pk)
        .order_by(fields.c.id)
    ).all()
    return ProfileData(
        profile_id=row.profile_id,
        db_id=row.db_id,
        email=row.email,
        phone=row.phone,
        fields=dict(named),
        codes=held_codes(connection, pk),
        deleted=row.deleted,
    )


def held_codes(connection: Connection, pk: int) -> list[HeldCode]:
    """Return the codes profile `pk` holds, by program, then oldest attachment first."""
    attachments, codes = Attachment.__table__, PromoCode.__table__
    programs = LoyaltyProgram.__table__
    rows = connection.execute(
        select(
            codes.c.code,
            codes.c.loyalty_id,
            programs.c.name,
            attachments.c.attached,
            codes.c.activated,
            codes.c.expire_date,
        )
        .select_from(attachments)
        .join(codes, codes.c.id == attachments.c.code_id)
        .join(programs, programs.c.id == codes.c.loyalty_id)
        .where(attachments.c.profile_pk == pk)
        .order_by(codes.c.loyalty_id, attachments.c.attached, attachments.c.id)
    ).all()
    return [HeldCode(*row) for row in rows]


_DATABASE = DirectStatement(
    select(Database.__table__.c.id).where(Database.__table__.c.id == bindparam("db_id"))
)


def get_profile(connection: Connection, db_id: int, key: ProfileKey) -> ProfileData:
    """Return the live profile of database `db_id` that `key` names, with its codes."""
    if not _DATABASE.rows(connection, {"db_id": db_id}):
        raise DatabaseNotFound()
    return profile_data(connection, find_profile(connection, db_id, key).id)
