"""Databases of profiles and their custom fields: making a database, the names a field
may have, and adding a field to (or removing one from) a database that has profiles.

A new field is there for the next call: every profile write reads the database's fields
after taking its lock (`upsert.lock_database`), and so do these, so an import running
beside them sees the fields as they were or as they are, never half of a change.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import events
from ..db.binding import promo_connection
from ..errors import DatabaseNotFound, InvalidInput
from ..models import CustomField, Database, ProfileFieldValue
from .upsert import lock_database

# Names a call or a file already gives a meaning to: the data object's and the CSV's email
# and phone, and a batch item's profile_id.
RESERVED = ("email", "phone", "profile_id")
MAX_NAME = 255


class DatabaseNameError(InvalidInput):
    """A database name, or a custom field's name, that cannot be used."""


class FieldInUse(InvalidInput):
    """A field that profiles hold values of: removing it would lose them."""

    def __init__(self, db_id: int, name: str, holders: int) -> None:
        super().__init__(
            f"{holders} profiles of database {db_id} hold a value of {name!r}: "
            "removing it would delete those values."
        )
        self.holders = holders


def field_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Return the custom field names `names`, trimmed, or refuse the first blank, too long,
    reserved or repeated one (also against the database's own, `taken`)."""
    seen = set(taken)
    checked = []
    for raw in names:
        name = raw.strip()
        if not name or len(name) > MAX_NAME:
            raise DatabaseNameError(f"A custom field's name has 1 to {MAX_NAME} characters.")
        if name.lower() in RESERVED:
            raise DatabaseNameError(
                f"{name!r} cannot be a custom field's name: {', '.join(RESERVED)} are built in."
            )
        if name in seen:
            raise DatabaseNameError(f"The custom field {name!r} is there already.")
        seen.add(name)
        checked.append(name)
    return checked


def create_database(
    session: Session, name: str, custom_fields: Iterable[str] = (), actor: str = events.CLI
) -> Database:
    """Add a database of profiles with its custom fields, and its event; the caller
    commits."""
    name = name.strip()
    if not name or len(name) > 255:
        raise DatabaseNameError("A database name has 1 to 255 characters.")
    fields = field_names(custom_fields)
    taken = session.scalar(select(Database.id).where(Database.name == name))
    if taken is not None:
        raise DatabaseNameError(f"A database named {name!r} exists already (db_id {taken}).")
    database = Database(name=name, custom_fields=[CustomField(name=field) for field in fields])
    session.add(database)
    session.flush()
    events.record(
        promo_connection(session),
        events.DATABASE_CREATED,
        actor,
        db_id=database.id,
        detail={"name": name, "custom_fields": fields},
    )
    return database


def get_database(session: Session, db_id: int) -> Database:
    database = session.get(Database, db_id)
    if database is None:
        raise DatabaseNotFound()
    return database


def declared_fields(session: Session, db_id: int) -> dict[str, int]:
    """Lock database `db_id` for profile writes; return its fields (name -> id)."""
    return lock_database(promo_connection(session), db_id)


def add_field(session: Session, db_id: int, name: str) -> CustomField:
    """Add the custom field `name` to database `db_id`; the caller commits."""
    [name] = field_names([name], declared_fields(session, db_id))
    field = CustomField(db_id=db_id, name=name)
    session.add(field)
    session.flush()
    return field


def remove_field(session: Session, db_id: int, name: str, force: bool = False) -> int:
    """Remove the custom field `name` of database `db_id`; return how many values of it
    went with it. Profiles holding values of it refuse it unless `force`. The caller
    commits."""
    declared = declared_fields(session, db_id)
    if name not in declared:
        raise DatabaseNameError(
            f"Database {db_id} has no custom field {name!r}; it has {sorted(declared) or 'none'}."
        )
    field_id = declared[name]
    holders = session.scalar(
        select(func.count())
        .select_from(ProfileFieldValue)
        .where(ProfileFieldValue.field_id == field_id)
    )
    if holders and not force:
        raise FieldInUse(db_id, name, holders)
    session.execute(delete(ProfileFieldValue).where(ProfileFieldValue.field_id == field_id))
    session.execute(delete(CustomField).where(CustomField.id == field_id))
    return holders
