"""Add or update one profile (`profiles/import`, `promo.profiles.upsert`).

Every profile write first locks its database (`lock_database`): two imports of one new email
at the same moment, in two processes, must make one profile, not two. On SQLite the lock
statement is the transaction's first write, so the write lock is held from before the
look-up; on PostgreSQL it is the database row's FOR NO KEY UPDATE lock, which orders the
profile writers of one database and leaves inserts that refer to the row (their foreign
key checks) alone. No unique index does this job: databases filled by the CSV import may
hold two profiles with one email already.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from ..db.direct import DirectStatement
from ..errors import DatabaseNotFound, ProfileNotFound, SeveralProfilesMatch
from ..models import CustomField, Database, Profile, ProfileFieldValue, new_profile_id
from ..times import utcnow
from .matching import ProfileKey, ProfileRef, match_profiles, profile_holders
from .values import UNSET, ProfileValues, key_for, read_values

_databases, _fields = Database.__table__, CustomField.__table__
_profiles, _values = Profile.__table__, ProfileFieldValue.__table__

_LOCK_DATABASE = DirectStatement(
    update(_databases)
    .where(_databases.c.id == bindparam("db_id"))
    .values(created=_databases.c.created)
    .returning(_databases.c.id)
)
_DECLARED_FIELDS = DirectStatement(
    select(_fields.c.name, _fields.c.id).where(_fields.c.db_id == bindparam("db_id"))
)
_INSERT_PROFILE = DirectStatement(
    insert(_profiles)
    .values(
        profile_id=bindparam("profile_id"),
        db_id=bindparam("db_id"),
        email=bindparam("email"),
        email_key=bindparam("email_key"),
        phone=bindparam("phone"),
        phone_key=bindparam("phone_key"),
        created=bindparam("created"),
    )
    .returning(_profiles.c.id)
)
_SET_EMAIL = DirectStatement(
    update(_profiles)
    .where(_profiles.c.id == bindparam("pk"))
    .values(email=bindparam("email"), email_key=bindparam("email_key"))
)
_SET_PHONE = DirectStatement(
    update(_profiles)
    .where(_profiles.c.id == bindparam("pk"))
    .values(phone=bindparam("phone"), phone_key=bindparam("phone_key"))
)
_CLEAR_FIELD = DirectStatement(
    delete(_values).where(
        _values.c.profile_pk == bindparam("pk"), _values.c.field_id == bindparam("field_id")
    )
)
_ADD_FIELD = DirectStatement(
    insert(_values).values(
        profile_pk=bindparam("pk"), field_id=bindparam("field_id"), value=bindparam("value")
    )
)


def lock_database(connection: Connection, db_id: int, fields: bool = True) -> dict[str, int]:
    """Lock database `db_id` for profile writes until the transaction ends; return its
    custom fields (name -> id), or nothing if `fields` is false (a call that names none)."""
    if not _LOCK_DATABASE.rows(connection, {"db_id": db_id}):
        raise DatabaseNotFound()
    if not fields:
        return {}
    return dict(_DECLARED_FIELDS.rows(connection, {"db_id": db_id}))


class Lookups(Protocol):
    """Where the rules find the live profiles a key names (at most two)."""

    def matches(self, key: ProfileKey) -> list[ProfileRef]: ...

    def holders(self, mode: str, value_key: str) -> list[int]: ...


class Plan(NamedTuple):
    """What an import does: update `profile`, or (None) create one, with `values`."""

    profile: ProfileRef | None
    values: ProfileValues


def plan_import(
    lookups: Lookups, key: ProfileKey, values: ProfileValues, declared: Mapping[str, int]
) -> Plan:
    """Decide what an import of `values` for the profile `key` names does, or refuse it.

    Nothing matches: a new profile, holding the key's identifier too (a profile_id is ours
    to make: nothing is created for one). One matches: it is updated. Several: refused. An
    email or phone that compares equal to another live profile's is refused: two profiles
    would then match it.
    """
    found = lookups.matches(key)
    if found:
        if len(found) > 1:
            raise SeveralProfilesMatch()
        profile, pk = found[0], found[0].id
    elif key.mode == "profile_id":
        raise ProfileNotFound()
    else:
        profile = pk = None
        values = with_identifier(values, key, declared)
    for mode, wanted in (("email", values.email_key), ("phone", values.phone_key)):
        if wanted is None or (mode == key.mode and wanted == key.lookup):
            continue  # the look-up above answered for this one
        for holder in lookups.holders(mode, wanted):
            if holder != pk:
                raise SeveralProfilesMatch(
                    {f"data.{mode}": [f"Another profile of this database has this {mode}."]}
                )
    return Plan(profile, values)


def with_identifier(
    values: ProfileValues, key: ProfileKey, declared: Mapping[str, int]
) -> ProfileValues:
    """Return `values` with the key's identifier filled in where they give none."""
    mode = key.mode
    if mode == "email" or mode == "phone":
        if getattr(values, mode) not in (UNSET, None):
            return values
        filled = {"email": values.email, "phone": values.phone, key.mode: key.value.strip()}
        return ProfileValues(**filled, fields=values.fields)
    if key.mode == "custom":
        field_id = declared[key.field_name]
        if values.fields.get(field_id) is None:
            fields = {**values.fields, field_id: key.value}
            keys = (values.email_key, values.phone_key)
            return ProfileValues(values.email, values.phone, fields, keys)
    return values


class _Direct:
    """Look-ups straight on the database, for one import."""

    def __init__(self, connection: Connection, db_id: int) -> None:
        self.connection, self.db_id = connection, db_id

    def matches(self, key: ProfileKey) -> list[ProfileRef]:
        return match_profiles(self.connection, self.db_id, key)

    def holders(self, mode: str, value_key: str) -> list[int]:
        return profile_holders(self.connection, self.db_id, mode, value_key)


@dataclass(frozen=True)
class Imported:
    """The answer of an import: the profile's id and whether it was made now."""

    profile_id: str
    created: bool

    def as_data(self) -> dict[str, Any]:
        return {"profile_id": self.profile_id, "created": self.created}


def import_profile(
    connection: Connection,
    db_id: int,
    *,
    matching: str | None,
    given: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> Imported:
    """Add or update the profile of database `db_id` that `matching` and `given` name
    (the identifiers named at the top level of the call) with `data`; the caller commits."""
    # A sign-up with an email and a phone names no custom field: one statement fewer.
    names_fields = matching == "custom" or "field_name" in given
    names_fields = names_fields or any(name not in ("email", "phone") for name in data or {})
    declared = lock_database(connection, db_id, fields=names_fields)
    values = read_values(data, declared)
    key = key_for(matching, given, values, declared)
    plan = plan_import(_Direct(connection, db_id), key, values, declared)
    if plan.profile is None:
        profile_id = new_profile_id()
        rows = _INSERT_PROFILE.rows(
            connection,
            {
                "profile_id": profile_id,
                "db_id": db_id,
                **_columns(plan.values),
                "created": utcnow(),
            },
        )
        pk, created = rows[0][0], True
    else:
        (pk, profile_id), created = plan.profile, False
        for mode, statement in (("email", _SET_EMAIL), ("phone", _SET_PHONE)):
            if getattr(plan.values, mode) is not UNSET:
                columns = _columns(plan.values)
                statement.rows(
                    connection,
                    {"pk": pk, mode: columns[mode], f"{mode}_key": columns[f"{mode}_key"]},
                )
    for field_id, value in plan.values.fields.items():
        if not created:
            _CLEAR_FIELD.rows(connection, {"pk": pk, "field_id": field_id})
        if value is not None:
            _ADD_FIELD.rows(connection, {"pk": pk, "field_id": field_id, "value": value})
    return Imported(profile_id, created)


def _columns(values: ProfileValues) -> dict[str, str | None]:
    """Return the email and phone columns `values` sets (None where it sets or clears none)."""
    columns: dict[str, str | None] = {}
    for mode in ("email", "phone"):
        value = getattr(values, mode)
        value = None if value is UNSET else value
        columns[mode] = value
        columns[f"{mode}_key"] = values.keyed(mode)
    return columns
