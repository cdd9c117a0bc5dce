"""The writes of a batch of profile imports: gathered on its view while its items are
planned, then made at the end with one `executemany` per statement, straight on the driver
(`DirectStatement.many`), so that a row costs the database's work and little more.

The new profiles are given their row ids before they are inserted, so that their fields are
written by id: on SQLite the ids after the largest (the batch holds the database's write lock
from its first statement, `upsert.lock_database`, so no other writer takes them), as SQLite
itself would give them; on PostgreSQL the next values of the table's sequence.
"""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from ..db.direct import DirectStatement
from ..models import Profile, ProfileFieldValue
from ..times import utcnow
from .batch_view import Row, View
from .upsert import Plan
from .values import UNSET

_profiles, _values = Profile.__table__, ProfileFieldValue.__table__
_NEW = ("id", "profile_id", "db_id", "email", "email_key", "phone", "phone_key", "created")
_INSERT = DirectStatement(
    insert(_profiles).values({name: bindparam(name) for name in _NEW}).inline(),
)
_CHANGED = ("email", "email_key", "phone", "phone_key", "pk")
_UPDATE = DirectStatement(
    update(_profiles)
    .where(_profiles.c.id == bindparam("pk"))
    .values({name: bindparam(name) for name in _CHANGED[:-1]})
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
_LARGEST_ID = DirectStatement(select(func.coalesce(func.max(_profiles.c.id), 0)))
_NEXT_IDS = DirectStatement(  # PostgreSQL
    select(
        func.nextval(func.pg_get_serial_sequence(literal(_profiles.name), literal("id")))
    ).select_from(func.generate_series(1, bindparam("count")))
)
_IDS_AT_ONCE = 256  # profile_ids made from one read of random bytes


class Writes:
    """The batch's writes, gathered while planning and made at the end in bulk."""

    def __init__(self, view: View, custom_field: int | None) -> None:
        self.view, self.custom_field = view, custom_field
        self.new: list[int] = []
        self.changed: set[int] = set()
        self.fields: dict[tuple[int, int], str | None] = {}
        self._next_placeholder = -1  # row ids of profiles not inserted yet
        self._random, self._taken = "", 0

    def _new_profile_id(self) -> str:
        """Return a fresh profile_id, as models.new_profile_id makes one (24 hex digits),
        from random bytes read 256 profiles at a time: one read each costs as much as the
        rest of an item's planning."""
        if self._taken == len(self._random):
            self._random, self._taken = secrets.token_hex(12 * _IDS_AT_ONCE), 0
        start = self._taken
        self._taken += 24
        return self._random[start : self._taken]

    def apply(self, plan: Plan) -> tuple[str, bool]:
        """Apply one item's plan to the view; return its profile_id and whether it is new."""
        view, values = self.view, plan.values
        email, phone = values.email, values.phone
        if plan.profile is None:
            pk = self._next_placeholder
            self._next_placeholder -= 1
            row = Row(
                self._new_profile_id(),
                None if email is UNSET else email,
                values.email_key,
                None if phone is UNSET else phone,
                values.phone_key,
                values.fields.get(self.custom_field) if self.custom_field else None,
            )
            view.add(pk, row)
            self.new.append(pk)
        else:
            pk = plan.profile.id
            row = view.rows[pk]
            if pk > 0:
                self.changed.add(pk)
            if email is not UNSET:
                key = values.email_key
                view.move("email", pk, row.email_key, key)
                row.email, row.email_key = email, key
            if phone is not UNSET:
                key = values.phone_key
                view.move("phone", pk, row.phone_key, key)
                row.phone, row.phone_key = phone, key
            if self.custom_field in values.fields:
                value = values.fields[self.custom_field]
                view.move("custom", pk, row.custom, value)
                row.custom = value
        for field_id, value in values.fields.items():
            self.fields[pk, field_id] = value
        return row.profile_id, plan.profile is None

    def flush(self, connection: Connection, db_id: int) -> None:
        """Insert the new profiles, update the changed ones, then write their fields."""
        rows = self.view.rows
        ids: dict[int, int] = {}  # of the new profiles, by their placeholders
        if self.new:
            ids = dict(zip(self.new, _new_ids(connection, len(self.new)), strict=True))
            _INSERT.many(
                connection,
                _NEW[:-1],
                [
                    (
                        ids[pk],
                        row.profile_id,
                        db_id,
                        row.email,
                        row.email_key,
                        row.phone,
                        row.phone_key,
                    )
                    for pk, row in ((pk, rows[pk]) for pk in self.new)
                ],
                same={"created": utcnow()},
            )
        if self.changed:
            changed = [(pk, rows[pk]) for pk in sorted(self.changed)]
            _UPDATE.many(
                connection,
                _CHANGED,
                [(row.email, row.email_key, row.phone, row.phone_key, pk) for pk, row in changed],
            )
        cleared = [key for key in self.fields if key[0] > 0]
        if cleared:
            _CLEAR_FIELD.many(connection, ("pk", "field_id"), cleared)
        added = [
            (ids[pk] if pk < 0 else pk, field_id, value)
            for (pk, field_id), value in self.fields.items()
            if value is not None
        ]
        if added:
            _ADD_FIELD.many(connection, ("pk", "field_id", "value"), added)


def _new_ids(connection: Connection, count: int) -> list[int]:
    """Return the row ids of `count` new profiles (see the module's docstring)."""
    if connection.dialect.name == "sqlite":
        largest = _LARGEST_ID.rows(connection, {})[0][0]
        return list(range(largest + 1, largest + 1 + count))
    return [row[0] for row in _NEXT_IDS.rows(connection, {"count": count})]
