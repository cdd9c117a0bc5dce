"""What a batch of profile imports knows of the profiles it touches: read once, in bulk, with
one `IN (...)` look-up per kind of key and chunk of keys, then kept up to date in memory as
the batch's items are planned, so that the rules of `upsert.plan_import` run on it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from ..db.direct import DirectStatement
from ..models import Profile, ProfileFieldValue
from .matching import ProfileKey, ProfileRef
from .values import ProfileValues

_profiles, _values = Profile.__table__, ProfileFieldValue.__table__
_ROW = (
    _profiles.c.id,
    _profiles.c.profile_id,
    _profiles.c.email,
    _profiles.c.email_key,
    _profiles.c.phone,
    _profiles.c.phone_key,
)
# Keys per look-up: a chunk is padded to the next of these sizes with its last key, so that
# each is one statement compiled once, its keys bound one by one (SQLite allows 999 at least).
LOOKUP_SIZES = (1, 10, 100, 500)
_KEY_NAMES = [f"k{n}" for n in range(LOOKUP_SIZES[-1])]


@dataclass(slots=True)
class Row:
    profile_id: str
    email: str | None
    email_key: str | None
    phone: str | None
    phone_key: str | None
    custom: str | None = None  # its value of the field the batch matches by, when known


@dataclass
class View:
    """The profiles a batch touches, as the batch has made them so far."""

    rows: dict[int, Row] = field(default_factory=dict)
    index: dict[str, dict[str, set[int]]] = field(
        default_factory=lambda: {"email": {}, "phone": {}, "profile_id": {}, "custom": {}}
    )

    def add(self, pk: int, row: Row) -> None:
        if pk in self.rows:
            return
        self.rows[pk] = row
        index = self.index
        if row.email_key is not None:
            _hold(index["email"], row.email_key, pk)
        if row.phone_key is not None:
            _hold(index["phone"], row.phone_key, pk)
        if pk > 0:  # a profile made by the batch has a profile_id no one knows yet
            _hold(index["profile_id"], row.profile_id, pk)
        if row.custom is not None:
            _hold(index["custom"], row.custom, pk)

    def move(self, mode: str, pk: int, old: str | None, new: str | None) -> None:
        if old == new:
            return
        index = self.index[mode]
        if old is not None and old in index:
            index[old].discard(pk)
        if new is not None:
            index.setdefault(new, set()).add(pk)

    def matches(self, key: ProfileKey) -> list[ProfileRef]:
        found = self.index[key.mode].get(key.lookup)
        if not found:
            return []
        rows = self.rows
        return [ProfileRef(pk, rows[pk].profile_id) for pk in sorted(found)[:2]]

    def holders(self, mode: str, value_key: str) -> list[int]:
        found = self.index[mode].get(value_key)
        if not found:
            return []
        return list(found) if len(found) == 1 else sorted(found)[:2]


def _hold(holders: dict[str, set[int]], value: str, pk: int) -> None:
    found = holders.get(value)
    if found is None:
        holders[value] = {pk}
    else:
        found.add(pk)


def _in_database() -> object:
    return _profiles.c.db_id == bindparam("db_id")


def _keys(size: int) -> list:
    return [bindparam(name) for name in _KEY_NAMES[:size]]


def _by(column_name: str, size: int) -> DirectStatement:
    column = _profiles.c[column_name]
    query = select(*_ROW).where(_in_database(), column.in_(_keys(size)))
    if column_name == "profile_id":
        query = query.where(_profiles.c.deleted.is_(None))
    return DirectStatement(query)


def _by_custom(size: int) -> DirectStatement:
    query = (
        select(*_ROW, _values.c.value)
        .join(_values, _values.c.profile_pk == _profiles.c.id)
        .where(
            _in_database(),
            _values.c.field_id == bindparam("field_id"),
            _values.c.value.in_(_keys(size)),
        )
    )
    return DirectStatement(query)


_COLUMN = {"email": "email_key", "phone": "phone_key", "profile_id": "profile_id"}
_BY = {(mode, size): _by(column, size) for mode, column in _COLUMN.items() for size in LOOKUP_SIZES}
_BY_CUSTOM = {size: _by_custom(size) for size in LOOKUP_SIZES}


def look_up(
    connection: Connection,
    db_id: int,
    view: View,
    planned: Iterable[tuple[int, ProfileKey, ProfileValues]],
    custom_field: int | None,
) -> None:
    """Read into `view` every live profile that a planned item's key or new email or phone
    names (with its value of `custom_field`, the field the batch matches by)."""
    wanted: dict[str, set[str]] = {"email": set(), "phone": set(), "profile_id": set()}
    custom: set[str] = set()
    email, phone = wanted["email"], wanted["phone"]
    for _index, key, values in planned:
        (custom if key.mode == "custom" else wanted[key.mode]).add(key.lookup)
        email.add(values.email_key)
        phone.add(values.phone_key)
    email.discard(None)
    phone.discard(None)
    for mode, keys in wanted.items():
        for size, params in _chunks(list(keys)):
            params["db_id"] = db_id
            for pk, *row in _BY[mode, size].rows(connection, params):
                view.add(pk, Row(*row))
    if custom_field is None:
        return
    for size, params in _chunks(list(custom)):
        params.update(db_id=db_id, field_id=custom_field)
        for pk, *row, value in _BY_CUSTOM[size].rows(connection, params):
            known = view.rows.get(pk)
            if known is not None:
                view.move("custom", pk, known.custom, value)
                known.custom = value
            else:
                view.add(pk, Row(*row, custom=value))


def _chunks(keys: list[str]) -> Iterable[tuple[int, dict[str, object]]]:
    """Yield the parameters of each look-up of `keys`: its size and its keys, padded."""
    largest = LOOKUP_SIZES[-1]
    for start in range(0, len(keys), largest):
        chunk = keys[start : start + largest]
        size = next(size for size in LOOKUP_SIZES if size >= len(chunk))
        chunk += [chunk[-1]] * (size - len(chunk))
        yield size, dict(zip(_KEY_NAMES, chunk, strict=False))
