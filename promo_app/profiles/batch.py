"""Add or update many profiles in one transaction (`profiles/import_batch`, `promo
import-profiles`): the rules of `upsert.plan_import`, item by item, on look-ups made in
bulk before and writes made in bulk after.

Items are planned in order on an in-memory view of the profiles they touch, so that two
items of one batch with one new email make one profile, as two calls would. A bad item is
reported by its index; the others are written.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from ..errors import IncorrectRequest, PromoError
from ..models import Profile, ProfileFieldValue
from ..times import utcnow
from .matching import KEY_OF_MODE, ProfileKey, ProfileRef
from .outcomes import BatchResult, ItemOutcome
from .upsert import Plan, lock_database, plan_import
from .values import UNSET, ProfileValues, key_for, read_values

_profiles, _values = Profile.__table__, ProfileFieldValue.__table__
_ROW = (
    _profiles.c.id,
    _profiles.c.profile_id,
    _profiles.c.email,
    _profiles.c.email_key,
    _profiles.c.phone,
    _profiles.c.phone_key,
)
_IN_DATABASE = _profiles.c.db_id == bindparam("db_id")
_BY = {
    "email": select(*_ROW).where(
        _IN_DATABASE, _profiles.c.email_key.in_(bindparam("keys", expanding=True))
    ),
    "phone": select(*_ROW).where(
        _IN_DATABASE, _profiles.c.phone_key.in_(bindparam("keys", expanding=True))
    ),
    "profile_id": select(*_ROW).where(
        _IN_DATABASE,
        _profiles.c.deleted.is_(None),
        _profiles.c.profile_id.in_(bindparam("keys", expanding=True)),
    ),
}
_BY_CUSTOM = (
    select(*_ROW, _values.c.value)
    .join(_values, _values.c.profile_pk == _profiles.c.id)
    .where(
        _IN_DATABASE,
        _values.c.field_id == bindparam("field_id"),
        _values.c.value.in_(bindparam("keys", expanding=True)),
    )
)
_INSERT = insert(_profiles).returning(_profiles.c.id, _profiles.c.profile_id)
_UPDATE = (
    update(_profiles)
    .where(_profiles.c.id == bindparam("b_pk"))
    .values(
        email=bindparam("b_email"),
        email_key=bindparam("b_email_key"),
        phone=bindparam("b_phone"),
        phone_key=bindparam("b_phone_key"),
    )
)
_CLEAR_FIELD = delete(_values).where(
    _values.c.profile_pk == bindparam("b_pk"), _values.c.field_id == bindparam("b_field_id")
)
LOOKUP_CHUNK = 500  # keys per IN (...): well under SQLite's limit of bound parameters


@dataclass
class _Row:
    profile_id: str
    email: str | None
    email_key: str | None
    phone: str | None
    phone_key: str | None
    custom: str | None = None  # its value of the field the batch matches by, when known


@dataclass
class _View:
    """The profiles a batch touches, as the batch has made them so far."""

    rows: dict[int, _Row] = field(default_factory=dict)
    index: dict[str, dict[str, set[int]]] = field(
        default_factory=lambda: {"email": {}, "phone": {}, "profile_id": {}, "custom": {}}
    )

    def add(self, pk: int, row: _Row) -> None:
        if pk in self.rows:
            return
        self.rows[pk] = row
        for mode, value in (
            ("email", row.email_key),
            ("phone", row.phone_key),
            ("profile_id", row.profile_id),
            ("custom", row.custom),
        ):
            if value is not None:
                self.index[mode].setdefault(value, set()).add(pk)

    def move(self, mode: str, pk: int, old: str | None, new: str | None) -> None:
        if old is not None:
            self.index[mode].get(old, set()).discard(pk)
        if new is not None:
            self.index[mode].setdefault(new, set()).add(pk)

    def matches(self, key: ProfileKey) -> list[ProfileRef]:
        value = KEY_OF_MODE[key.mode](key.value) if key.mode in KEY_OF_MODE else key.value
        pks = sorted(self.index[key.mode].get(value, ()))[:2]
        return [ProfileRef(pk, self.rows[pk].profile_id) for pk in pks]

    def holders(self, mode: str, value_key: str) -> list[int]:
        return sorted(self.index[mode].get(value_key, ()))[:2]


def import_profiles(
    connection: Connection,
    db_id: int,
    items: Sequence[Mapping[str, Any]],
    *,
    matching: str | None = None,
    field_name: str | None = None,
) -> BatchResult:
    """Add or update a profile for each item (its data: email, phone, custom fields, and
    its profile_id when matching by it); say what became of each. The caller commits.

    Without `matching` each item is found by its email, else its phone. With "custom",
    `field_name` names the field and each item's value of it finds the profile.
    """
    declared = lock_database(connection, db_id)
    if matching == "custom" and field_name not in declared:
        raise IncorrectRequest({"field_name": ["Not a custom field of this database."]})
    outcomes = [ItemOutcome() for _ in items]
    planned: list[tuple[int, ProfileKey, ProfileValues]] = []
    given = {"field_name": field_name}
    for index, item in enumerate(items):
        try:
            data = {name: value for name, value in item.items() if name != "profile_id"}
            values = read_values(data, declared, where="")
            key = key_for(
                matching, {**given, "profile_id": item.get("profile_id")}, values, declared
            )
        except PromoError as error:
            _refuse(outcomes[index], error)
            continue
        planned.append((index, key, values))
    custom_field = declared.get(field_name) if matching == "custom" else None
    view = _View()
    _look_up(connection, db_id, view, planned, custom_field)
    writes = _Writes(view, custom_field)
    for index, key, values in planned:
        try:
            plan = plan_import(view, key, values, declared)
        except PromoError as error:
            _refuse(outcomes[index], error)
            continue
        outcomes[index].profile_id, outcomes[index].created = writes.apply(plan)
    writes.flush(connection, db_id)
    return BatchResult(outcomes)


def _refuse(outcome: ItemOutcome, error: PromoError) -> None:
    outcome.error, outcome.error_text, outcome.errors = error.error, error.error_text, error.errors


def _look_up(
    connection: Connection,
    db_id: int,
    view: _View,
    planned: list[tuple[int, ProfileKey, ProfileValues]],
    custom_field: int | None,
) -> None:
    """Read every live profile that a planned item's key or new email or phone names."""
    wanted: dict[str, set[str]] = {
        "email": set(),
        "phone": set(),
        "profile_id": set(),
        "custom": set(),
    }
    for _index, key, values in planned:
        if key.mode in KEY_OF_MODE:
            wanted[key.mode].add(KEY_OF_MODE[key.mode](key.value))
        else:
            wanted["custom"].add(key.value)
        for mode in ("email", "phone"):
            if (value := values.keyed(mode)) is not None:
                wanted[mode].add(value)
    for mode in ("email", "phone", "profile_id"):
        for keys in _chunks(sorted(wanted[mode])):
            for pk, *row in connection.execute(_BY[mode], {"db_id": db_id, "keys": keys}):
                view.add(pk, _Row(*row))
    if custom_field is not None:
        for keys in _chunks(sorted(wanted["custom"])):
            params = {"db_id": db_id, "field_id": custom_field, "keys": keys}
            for pk, *row, value in connection.execute(_BY_CUSTOM, params):
                known = view.rows.get(pk)
                if known is not None:
                    known.custom = value
                    view.move("custom", pk, None, value)
                else:
                    view.add(pk, _Row(*row, custom=value))


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), LOOKUP_CHUNK):
        yield keys[start : start + LOOKUP_CHUNK]


class _Writes:
    """The batch's writes, gathered while planning and made at the end in bulk."""

    def __init__(self, view: _View, custom_field: int | None) -> None:
        self.view, self.custom_field = view, custom_field
        self.new: list[int] = []
        self.changed: set[int] = set()
        self.fields: dict[tuple[int, int], str | None] = {}
        self._placeholders = count(-1, -1)  # row ids of profiles not inserted yet
        self._random = b""

    def _new_profile_id(self) -> str:
        """Return a fresh profile_id, as models.new_profile_id makes one (24 hex digits),
        from random bytes read 256 profiles at a time: one read each costs as much as the
        rest of an item's planning."""
        if not self._random:
            self._random = secrets.token_bytes(12 * 256)
        chunk, self._random = self._random[:12], self._random[12:]
        return chunk.hex()

    def apply(self, plan: Plan) -> tuple[str, bool]:
        """Apply one item's plan to the view; return its profile_id and whether it is new."""
        view, values = self.view, plan.values
        if plan.profile is None:
            pk = next(self._placeholders)
            row = _Row(self._new_profile_id(), None, None, None, None)
            view.add(pk, row)
            self.new.append(pk)
        else:
            pk = plan.profile.id
            row = view.rows[pk]
            if pk > 0:
                self.changed.add(pk)
        for mode in ("email", "phone"):
            value = getattr(values, mode)
            if value is UNSET:
                continue
            new_key = values.keyed(mode)
            view.move(mode, pk, getattr(row, f"{mode}_key"), new_key)
            setattr(row, mode, value)
            setattr(row, f"{mode}_key", new_key)
        for field_id, value in values.fields.items():
            self.fields[(pk, field_id)] = value
            if field_id == self.custom_field:
                view.move("custom", pk, row.custom, value)
                row.custom = value
        return row.profile_id, plan.profile is None

    def flush(self, connection: Connection, db_id: int) -> None:
        """Insert the new profiles, update the changed ones, then write their fields."""
        rows = self.view.rows
        real: dict[int, int] = {}
        if self.new:
            now = utcnow()
            placeholder = {rows[pk].profile_id: pk for pk in self.new}
            inserted = connection.execute(
                _INSERT,
                [
                    {
                        "profile_id": rows[pk].profile_id,
                        "db_id": db_id,
                        "email": rows[pk].email,
                        "email_key": rows[pk].email_key,
                        "phone": rows[pk].phone,
                        "phone_key": rows[pk].phone_key,
                        "created": now,
                    }
                    for pk in self.new
                ],
            )
            for pk, profile_id in inserted:
                real[placeholder[profile_id]] = pk
        if self.changed:
            connection.execute(
                _UPDATE,
                [
                    {
                        "b_pk": pk,
                        "b_email": rows[pk].email,
                        "b_email_key": rows[pk].email_key,
                        "b_phone": rows[pk].phone,
                        "b_phone_key": rows[pk].phone_key,
                    }
                    for pk in sorted(self.changed)
                ],
            )
        cleared = [{"b_pk": pk, "b_field_id": field_id} for pk, field_id in self.fields if pk > 0]
        if cleared:
            connection.execute(_CLEAR_FIELD, cleared)
        added = [
            {"profile_pk": real.get(pk, pk), "field_id": field_id, "value": value}
            for (pk, field_id), value in self.fields.items()
            if value is not None
        ]
        if added:
            connection.execute(insert(_values), added)
