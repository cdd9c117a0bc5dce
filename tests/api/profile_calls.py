"""Calling the profile verbs as a client would, and reading profiles back from the database."""

from __future__ import annotations

from typing import Any

import xmltodict
from sqlalchemy import func, select

from promo_app.models import Profile

from ..helpers import parse_envelope


def profiles(client, verb: str, params: dict[str, Any], fmt: str = "json"):
    """POST `params` to /api/v1.1/profiles/{verb}; return (HTTP status, envelope)."""
    path = f"/api/v1.1/profiles/{verb}"
    if fmt == "json":
        response = client.post(path, json=params)
    elif fmt == "xml":
        body = xmltodict.unparse({"xml": params})
        response = client.post(path, data=body, content_type="application/xml")
    else:
        response = client.post(path, data=params)
    return response.status_code, parse_envelope(response)


def stored(session, profile_id: str) -> dict[str, Any] | None:
    """The profile's row and fields as the database holds them now."""
    profile = session.scalar(select(Profile).where(Profile.profile_id == profile_id))
    if profile is None:
        session.rollback()
        return None
    row = {
        "email": profile.email,
        "email_key": profile.email_key,
        "phone": profile.phone,
        "phone_key": profile.phone_key,
        "deleted": profile.deleted,
        "fields": {value.field.name: value.value for value in profile.field_values},
    }
    session.rollback()
    return row


def count_profiles(session, **where: Any) -> int:
    query = select(func.count()).select_from(Profile)
    for name, value in where.items():
        query = query.where(getattr(Profile, name) == value)
    count = session.scalar(query)
    session.rollback()
    return count
