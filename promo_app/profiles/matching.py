"""Customer profiles: finding the one a request names, and loading them in bulk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, false, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..db.direct import DirectStatement
from ..errors import (
    IncorrectRequest,
    ProfileNotFound,
    SeveralProfilesMatch,
)
from ..models import Attachment, CustomField, Database, Profile, ProfileFieldValue

MATCHING_MODES = ("profile_id", "email", "phone", "custom")

_PHONE_NOISE = re.compile(r"[\s\-.()\[\]]")


def email_key(email: str) -> str:
    """Return an email address as it is compared: trimmed, lower case."""
    return email.strip().lower()


def phone_key(phone: str) -> str:
    """Return a phone number as it is compared: no spaces, dashes, dots or brackets."""
    if phone.isascii() and phone.lstrip("+").isdigit():
        return phone  # digits after a "+" or none: nothing to remove (the usual case, sooner)
    return _PHONE_NOISE.sub("", phone)


# What the page finds a customer by (its customers list, a program's code list).
CUSTOMER_KEYS = ("email", "phone", "profile_id")


def customer_condition(by: str, value: str) -> ColumnElement[bool]:
    """Return the condition of the profiles whose `by` (one of CUSTOMER_KEYS) is `value`,
    compared as the API compares it."""
    if not value.isprintable():
        # No identifier has control characters (and PostgreSQL refuses NUL in a parameter).
        return false()
    if by == "email":
        return Profile.email_key == email_key(value)
    if by == "phone":
        return Profile.phone_key == phone_key(value)
    if by == "profile_id":
        return Profile.profile_id == value.strip().lower()
    raise ValueError(f"Not a way to find a customer: {by!r}")


def codes_held_by(by: str, value: str) -> Select:
    """Select the ids of the codes held by the customers whose `by` is `value`, in every
    database: looked up from the customer (the profile's index, then the attachments'),
    never by probing each code, so a program's list stays fast at millions of codes."""
    profiles = select(Profile.id).where(
        Profile.db_id.in_(select(Database.id)), customer_condition(by, value)
    )
    return select(Attachment.code_id).where(Attachment.profile_pk.in_(profiles))


@dataclass(frozen=True, init=False)
class ProfileKey:
    """How a request identifies a profile: a matching mode and its value."""

    mode: str
    value: str
    field_name: str | None = None

    def __init__(
        self, mode: str, value: str, field_name: str | None = None, lookup: str | None = None
    ) -> None:
        # As the dataclass's own, without its object.__setattr__ a field (a batch makes one
        # key an item, profiles/batch.py), and `lookup` beside the fields: the value as
        # profiles are looked up by it (an email or phone's key), made once, or given by a
        # caller that has made it already.
        if lookup is None:
            lookup = value
            if isinstance(value, str):
                if mode == "email":
                    lookup = email_key(value)
                elif mode == "phone":
                    lookup = phone_key(value)
        fields = self.__dict__
        fields["mode"], fields["value"], fields["field_name"] = mode, value, field_name
        fields["lookup"] = lookup

    lookup: ClassVar[str]  # set by __init__; not a field: keys compare by their fields


class ProfileRef(NamedTuple):
    """A profile as a call needs it: its row id and the id shops know it by."""

    id: int
    profile_id: str


def _profile_queries() -> tuple[dict[str, DirectStatement], DirectStatement, DirectStatement]:
    """Build the profile lookups once, one per matching mode; a call binds its values.

    Each asks for two rows: a second one means the identifier is not unique. A deleted
    profile keeps only its profile_id (its keys and field rows are gone), so only that
    look-up says it wants live profiles.
    """
    profiles, values = Profile.__table__, ProfileFieldValue.__table__
    fields = CustomField.__table__
    wanted = select(profiles.c.id, profiles.c.profile_id).limit(2)
    in_database = profiles.c.db_id == bindparam("db_id")
    by_mode = {
        "profile_id": wanted.where(
            in_database, profiles.c.profile_id == bindparam("value"), profiles.c.deleted.is_(None)
        ),
        "email": wanted.where(in_database, profiles.c.email_key == bindparam("value")),
        "phone": wanted.where(in_database, profiles.c.phone_key == bindparam("value")),
    }
    by_custom = wanted.join(values, values.c.profile_pk == profiles.c.id).where(
        in_database,
        values.c.field_id == bindparam("field_id"),
        values.c.value == bindparam("value"),
    )
    custom_field = select(fields.c.id).where(
        fields.c.db_id == bindparam("db_id"), fields.c.name == bindparam("name")
    )
    return (
        {mode: DirectStatement(query) for mode, query in by_mode.items()},
        DirectStatement(by_custom),
        DirectStatement(custom_field),
    )


_PROFILE_BY_MODE, _PROFILE_BY_CUSTOM, _CUSTOM_FIELD_ID = _profile_queries()
KEY_OF_MODE = {"profile_id": str, "email": email_key, "phone": phone_key}
_ANY_BY_PROFILE_ID = DirectStatement(
    select(Profile.__table__.c.id, Profile.__table__.c.profile_id).where(
        Profile.__table__.c.db_id == bindparam("db_id"),
        Profile.__table__.c.profile_id == bindparam("value"),
    )
)


def match_profiles(connection: Connection, db_id: int, key: ProfileKey) -> list[ProfileRef]:
    """Return the live profiles of database `db_id` that `key` names, two at most."""
    if key.mode == "custom":
        name = key.field_name or ""
        fields = _CUSTOM_FIELD_ID.rows(connection, {"db_id": db_id, "name": name})
        if not fields:
            raise IncorrectRequest(
                {"field_name": [f"Database {db_id} declares no custom field {name!r}."]}
            )
        query = _PROFILE_BY_CUSTOM
        params = {"db_id": db_id, "field_id": fields[0][0], "value": key.value}
    else:
        query = _PROFILE_BY_MODE[key.mode]
        params = {"db_id": db_id, "value": KEY_OF_MODE[key.mode](key.value)}
    return [ProfileRef(*row) for row in query.rows(connection, params)]


def find_profile(connection: Connection, db_id: int, key: ProfileKey) -> ProfileRef:
    """Return the one profile of database `db_id` that `key` names."""
    matches = match_profiles(connection, db_id, key)
    if not matches:
        raise ProfileNotFound()
    if len(matches) > 1:
        raise SeveralProfilesMatch()
    return matches[0]


def find_profile_or_deleted(connection: Connection, db_id: int, key: ProfileKey) -> ProfileRef:
    """As find_profile, but a profile_id finds a deleted profile too: a merchant detaches
    the codes it held that way."""
    if key.mode == "profile_id":
        rows = _ANY_BY_PROFILE_ID.rows(connection, {"db_id": db_id, "value": key.value})
        if rows:
            return ProfileRef(*rows[0])
    return find_profile(connection, db_id, key)


def profile_holders(connection: Connection, db_id: int, mode: str, value_key: str) -> list[int]:
    """Return the row ids of the live profiles whose email or phone key is `value_key`
    (two at most)."""
    rows = _PROFILE_BY_MODE[mode].rows(connection, {"db_id": db_id, "value": value_key})
    return [row[0] for row in rows]


def add_profile(
    session: Session,
    database: Database,
    *,
    email: str | None = None,
    phone: str | None = None,
    custom: dict[str, str] | None = None,
) -> Profile:
    """Create a profile in `database`; custom field names must be declared by it."""
    fields = {field.name: field for field in database.custom_fields}
    unknown = sorted(set(custom or {}) - set(fields))
    if unknown:
        raise IncorrectRequest({name: ["Not a custom field of this database."] for name in unknown})
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    profile = Profile(
        db_id=database.id,
        email=email,
        email_key=email_key(email) if email else None,
        phone=phone,
        phone_key=phone_key(phone) if phone else None,
    )
    for name, value in (custom or {}).items():
        if value:
            profile.field_values.append(ProfileFieldValue(field=fields[name], value=value))
    session.add(profile)
    return profile
