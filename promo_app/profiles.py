"""Customer profiles: finding the one a request names, and loading them in bulk."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import DatabaseNotFound, IncorrectRequest, ProfileNotFound, SeveralProfilesMatch
from .models import CustomField, Database, Profile, ProfileFieldValue

MATCHING_MODES = ("profile_id", "email", "phone", "custom")

_PHONE_NOISE = re.compile(r"[\s\-.()\[\]]")


def email_key(email: str) -> str:
    """Return an email address as it is compared: trimmed, lower case."""
    return email.strip().lower()


def phone_key(phone: str) -> str:
    """Return a phone number as it is compared: no spaces, dashes, dots or brackets."""
    return _PHONE_NOISE.sub("", phone)


@dataclass(frozen=True)
class ProfileKey:
    """How a request identifies a profile: a matching mode and its value."""

    mode: str
    value: str
    field_name: str | None = None


def get_database(session: Session, db_id: int) -> Database:
    database = session.get(Database, db_id)
    if database is None:
        raise DatabaseNotFound()
    return database


def get_custom_field(session: Session, database: Database, name: str) -> CustomField:
    """Return the custom field `name` that `database` declares, or fail with a 400."""
    field = session.scalar(
        select(CustomField).where(CustomField.db_id == database.id, CustomField.name == name)
    )
    if field is None:
        raise IncorrectRequest(
            {"field_name": [f"Database {database.id} declares no custom field {name!r}."]}
        )
    return field


def find_profile(session: Session, database: Database, key: ProfileKey) -> Profile:
    """Return the one profile of `database` that `key` names."""
    if key.mode == "profile_id":
        query = select(Profile).where(Profile.profile_id == key.value)
    elif key.mode == "email":
        query = select(Profile).where(Profile.email_key == email_key(key.value))
    elif key.mode == "phone":
        query = select(Profile).where(Profile.phone_key == phone_key(key.value))
    else:
        field = get_custom_field(session, database, key.field_name or "")
        query = (
            select(Profile)
            .join(ProfileFieldValue, ProfileFieldValue.profile_pk == Profile.id)
            .where(ProfileFieldValue.field_id == field.id, ProfileFieldValue.value == key.value)
        )
    matches = session.scalars(query.where(Profile.db_id == database.id).limit(2)).all()
    if not matches:
        raise ProfileNotFound()
    if len(matches) > 1:
        raise SeveralProfilesMatch()
    return matches[0]


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
