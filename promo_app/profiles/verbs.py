"""The profile verbs of the API as plain functions: the token's databases checked, then
one rule of this package. Each takes a connection of the promo engine; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from .. import events
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
    imported = import_profile(connection, db_id, matching=matching, given=given, data=data)
    record_imported(connection, token.name, db_id, imported)
    return imported


def record_imported(connection: Connection, actor: str, db_id: int, imported: Imported) -> None:
    """Record a profile made or updated by one import."""
    kind = events.PROFILE_CREATED if imported.created else events.PROFILE_UPDATED
    events.record(connection, kind, actor, db_id=db_id, profile_id=imported.profile_id)


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
    result = import_profiles(connection, db_id, items, matching=matching, field_name=field_name)
    record_batch(connection, token.name, db_id, result)
    return result


def record_batch(connection: Connection, actor: str, db_id: int, result: BatchResult) -> None:
    """Record a batch of profile imports as one event with its counts."""
    if result.created or result.updated:
        counts = {"created": result.created, "updated": result.updated, "failed": result.failed}
        events.record(connection, events.PROFILE_UPDATED, actor, db_id=db_id, detail=counts)


def get(connection: Connection, token: Grant, *, db_id: int, key: ProfileKey) -> ProfileData:
    check_database_access(token, db_id)
    return get_profile(connection, db_id, key)


def delete(connection: Connection, token: Grant, *, db_id: int, key: ProfileKey) -> Deleted:
    check_database_access(token, db_id)
    deleted = delete_profile(connection, db_id, key)
    record_deleted(connection, token.name, db_id, deleted)
    return deleted


def record_deleted(connection: Connection, actor: str, db_id: int, deleted: Deleted) -> None:
    detail = {"codes_held": deleted.codes_held}
    events.record(
        connection,
        events.PROFILE_DELETED,
        actor,
        db_id=db_id,
        profile_id=deleted.profile_id,
        detail=detail,
    )
