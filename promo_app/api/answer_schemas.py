"""The answers' schemas: they only describe `data` for the OpenAPI document (openapi.py);
the verbs build it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..verbs import IMPORT_OUTCOMES

SET_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
TIME_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?$"


def _time(description: str) -> fields.String:
    return fields.String(
        required=True,
        metadata={
            "description": f'{description}: RFC 3339, UTC; "" when unset',
            "pattern": TIME_PATTERN,
            "example": "2026-11-25T10:00:00Z",
        },
    )


def _flag(description: str) -> fields.Boolean:
    return fields.Boolean(required=True, metadata={"description": description})


class AttachDataSchema(Schema):
    code = fields.String(required=True, metadata={"description": "The code attached"})
    loyalty_id = fields.Integer(required=True, metadata={"description": "Loyalty program ID"})
    profile_id = fields.String(required=True, metadata={"description": "Profile ID"})
    attached = _time("When the code was attached to this profile")


class ImportItemSchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "The code as stored (trimmed), or as given"}
    )
    error = fields.Integer(
        required=True,
        validate=validate.OneOf([error for error, _ in IMPORT_OUTCOMES]),
        metadata={"description": "0 added; 409 already in the program; 400 not a valid code"},
    )
    error_text = fields.String(
        required=True, validate=validate.OneOf([text for _, text in IMPORT_OUTCOMES])
    )


class CodeStateSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Promo code"})
    loyalty_id = fields.Integer(required=True, metadata={"description": "Loyalty program ID"})
    created = _time("When the code was added")
    is_attached = _flag("Attached to at least one profile")
    attached = _time(
        "When the code was attached; for a universal code, its earliest attachment that exists"
    )
    is_activated = _flag("Marked used (activate, or update with activated=true)")
    activated = _time("When the code was marked used")
    is_expired = _flag("expire_date has passed")
    expired = _time("When the code expired (its expire_date, once that has passed)")
    expire_date = _time("When the code expires")
    database_id = fields.Integer(
        metadata={
            "description": "Database ID of the profile holding the code (for a universal code, "
            "the profile of its earliest attachment); absent when the code is attached to nobody"
        }
    )
    profile_id = fields.String(
        metadata={
            "description": "Profile ID of that profile; absent when the code is attached to nobody",
            "pattern": "^[0-9a-f]{24}$",
        }
    )


def _time_if_set(description: str) -> fields.String:
    return fields.String(
        metadata={
            "description": f"{description}: RFC 3339, UTC; absent when unset",
            "pattern": SET_TIME_PATTERN,
            "example": "2026-11-25T10:00:00Z",
        },
    )


class ExportItemSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Promo code"})
    attached = _time_if_set(
        "When the code was attached; for a universal code, its earliest attachment that exists"
    )
    activated = _time_if_set("When the code was marked used")
