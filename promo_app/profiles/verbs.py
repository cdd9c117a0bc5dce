"""The profile verbs of the API as plain functions: the token's databases checked, then
one rule of this package. Each takes a connection of the promo engine; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ..errors import IncorrectRequest
from ..tokens import Grant, check_database_access
from .batch import import_profiles
from .deleting import Deleted, delete_profile
from .matching import ProfileKey
from .outcomes import BatchResult
from .reading import ProfileData, get_profile
from .upsert import Imported, import_profile


def import_(
    connection: Connection,
    token: Grant,
    *,
    db_id: int,
    matching: str | None,
    given: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> Imported:
    check_database_access(token, db_id)
    return import_profile(connection, db_id, matching=matching, given=given, data=data)


def import_batch(
    connection: Connection,
    token: Grant,
    *,
    db_id: int,
    items: Sequence[Mapping[str, Any]],
    limit: int,
    matching: str | None = None,
    field_name: str | None = None,
) -> BatchResult:
    check_database_access(token, db_id)
    if len(items) > limit:
        raise IncorrectRequest(
            {"data": [f"At most {limit} profiles a call; this one has {len(items)}."]}
        )
    return import_profiles(connection, db_id, items, matching=matching, field_name=field_name)


def get(connection: Connection, token: Grant, *, db_id: int, key: ProfileKey) -> ProfileData:
    check_database_access(token, db_id)
    return get_profile(connection, db_id, key)


def delete(connection: Connection, token: Grant, *, db_id: int, key: ProfileKey) -> Deleted:
    check_database_access(token, db_id)
    return delete_profile(connection, db_id, key)
