"""Deleting a profile (`profiles/delete`): its identifiers and fields go, its codes stay.

A code it was given may already sit in the customer's mailbox, so it never goes back to the
pool by itself: the row stays, with no email, phone or fields and its `deleted` time, and its
attachments keep their codes taken until a merchant detaches them (detach by its
profile_id still finds it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection

from ..db.direct import DirectStatement
from ..models import Attachment, Profile, ProfileFieldValue
from ..times import utcnow
from .matching import ProfileKey, find_profile
from .upsert import lock_database

_profiles, _values, _attachments = (
    Profile.__table__,
    ProfileFieldValue.__table__,
    Attachment.__table__,
)
_CODES_HELD = DirectStatement(
    select(func.count())
    .select_from(_attachments)
    .where(_attachments.c.profile_pk == bindparam("pk"))
)
_FORGET = DirectStatement(
    update(_profiles)
    .where(_profiles.c.id == bindparam("pk"))
    .values(email=None, email_key=None, phone=None, phone_key=None, deleted=bindparam("now"))
)
_FORGET_FIELDS = DirectStatement(delete(_values).where(_values.c.profile_pk == bindparam("pk")))


@dataclass(frozen=True)
class Deleted:
    profile_id: str
    codes_held: int

    def as_data(self) -> dict[str, Any]:
        return {"profile_id": self.profile_id, "codes_held": self.codes_held}


def delete_profile(connection: Connection, db_id: int, key: ProfileKey) -> Deleted:
    """Delete the profile `key` names; say how many codes it held. The caller commits."""
    lock_database(connection, db_id)
    profile = find_profile(connection, db_id, key)
    held = _CODES_HELD.rows(connection, {"pk": profile.id})[0][0]
    _FORGET.rows(connection, {"pk": profile.id, "now": utcnow()})
    _FORGET_FIELDS.rows(connection, {"pk": profile.id})
    return Deleted(profile.profile_id, held)
