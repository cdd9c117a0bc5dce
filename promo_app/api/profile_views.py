"""The profile verbs (`POST {prefix}/api/v1.1/profiles/{verb}`), declared once each, as the
platform's developer guide names them: import, import_batch, get, delete."""

from __future__ import annotations

from flask import current_app

from .. import errors
from ..profiles import verbs
from .profile_schemas import (
    ProfileBatchSchema,
    ProfileDeleteSchema,
    ProfileGetSchema,
    ProfileImportSchema,
)
from .verb import Answer, verb

MATCHING_EXAMPLE = {"db_id": 1, "matching": "email", "email": "john@example.com"}
PROFILE_ID = {
    "type": "string",
    "pattern": "^[0-9a-f]{24}$",
    "description": "Profile ID",
    "example": "8f2d185799e71f0306a1f50f",
}
TIME = {
    "type": "string",
    "pattern": r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?$",
    "description": 'RFC 3339, UTC; "" when unset',
}
IMPORTED = {
    "type": "object",
    "required": ["profile_id", "created"],
    "properties": {
        "profile_id": PROFILE_ID,
        "created": {"type": "boolean", "description": "true: made by this call"},
    },
}
BATCH_ITEM = {
    "type": "object",
    "required": ["error", "error_text", "profile_id", "created"],
    "properties": {
        "error": {"type": "integer", "enum": [0, 400, 404, 409]},
        "error_text": {"type": "string"},
        "profile_id": {
            **PROFILE_ID,
            "pattern": "^([0-9a-f]{24})?$",
            "description": '"" if refused',
        },
        "created": {"type": "boolean"},
        "details": {
            "type": "array",
            "description": "Why the item was refused: one message a field",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "xml": {"name": "item"},
}
PROFILE_DATA = {
    "type": "object",
    "required": ["profile_id", "email", "phone", "fields", "codes"],
    "properties": {
        "profile_id": PROFILE_ID,
        "email": {"type": "string", "description": 'Email address; "" when unset'},
        "phone": {"type": "string", "description": 'Phone number; "" when unset'},
        "fields": {
            "type": "array",
            "description": "Custom fields that are set (a list: a name need not be an XML name)",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
            },
        },
        "codes": {
            "type": "array",
            "description": "Every code the profile holds, by program, oldest attachment first",
            "items": {
                "type": "object",
                "required": ["code", "loyalty_id", "attached", "activated", "expire_date"],
                "properties": {
                    "code": {"type": "string"},
                    "loyalty_id": {"type": "integer"},
                    "attached": TIME,
                    "activated": TIME,
                    "expire_date": TIME,
                },
            },
        },
    },
}
DELETED = {
    "type": "object",
    "required": ["profile_id", "codes_held"],
    "properties": {
        "profile_id": PROFILE_ID,
        "codes_held": {
            "type": "integer",
            "description": "Codes the profile held: they stay taken, until detached",
        },
    },
}
LOOK_UP_ERRORS = (
    errors.AccessDenied,
    errors.DatabaseNotFound,
    errors.ProfileNotFound,
    errors.SeveralProfilesMatch,
)


@verb(
    "profiles_import",
    ProfileImportSchema(),
    path="/profiles/import",
    runs_on="connection",
    summary="Add or update a profile",
    description="Finds the profile by `matching` and its identifier (as attach does), or by "
    "the email, else the phone, of `data`. None matches: a profile is made (a profile_id "
    "that matches nothing is 404: profile ids are ours to make). One matches: it is updated. "
    "Several: 409, nothing written. An email or phone equal to another profile's (case, "
    "spaces, brackets aside) is 409 too. Two calls at once for one new email make one profile.",
    data=IMPORTED,
    errors=LOOK_UP_ERRORS,
    example={**MATCHING_EXAMPLE, "data": {"phone": "+79000000000"}},
)
def profiles_import(connection, args):
    return verbs.import_(
        connection,
        args["api_token"],
        db_id=args["db_id"],
        matching=args.get("matching"),
        given=args["given"],
        data=args.get("data"),
    ).as_data()


@verb(
    "profiles_import_batch",
    ProfileBatchSchema(),
    path="/profiles/import_batch",
    runs_on="connection",
    summary="Add or update several profiles",
    description="Does what `profiles/import` does for each item of `data`, in one "
    "transaction. `data[i]` tells what became of item i: a bad item is refused with its "
    "reasons and the others are written. At most PROMO_PROFILES_BATCH_MAX items (1,000 "
    "unless configured).",
    data={"type": "array", "items": BATCH_ITEM, "xml": {"wrapped": True}},
    errors=(errors.AccessDenied, errors.DatabaseNotFound),
    example={"db_id": 1, "data": [{"email": "john@example.com"}, {"email": "ann@example.com"}]},
    extra={
        "created": {"type": "integer", "description": "Profiles made"},
        "updated": {"type": "integer", "description": "Profiles updated"},
        "failed": {"type": "integer", "description": "Items refused"},
    },
)
def profiles_import_batch(connection, args):
    result = verbs.import_batch(
        connection,
        args["api_token"],
        db_id=args["db_id"],
        items=args["data"],
        limit=current_app.config["PROMO_PROFILES_BATCH_MAX"],
        matching=args.get("matching"),
        field_name=args.get("field_name"),
    )
    return Answer(
        [item.as_data() for item in result.outcomes],
        {"created": result.created, "updated": result.updated, "failed": result.failed},
    )


@verb(
    "profiles_get",
    ProfileGetSchema(),
    path="/profiles/get",
    runs_on="connection",
    writes=False,
    summary="Describe a profile and the codes it holds",
    description="Answers the profile's identifiers, its custom fields and every code it "
    "holds in every program, with attach and activation times.",
    data=PROFILE_DATA,
    errors=LOOK_UP_ERRORS,
    example=MATCHING_EXAMPLE,
)
def profiles_get(connection, args):
    key = args["profile_key"]
    return verbs.get(connection, args["api_token"], db_id=args["db_id"], key=key).as_data()


@verb(
    "profiles_delete",
    ProfileDeleteSchema(),
    path="/profiles/delete",
    runs_on="connection",
    summary="Delete a profile",
    description="Removes the profile's identifiers and custom fields. The codes it was "
    "given stay taken, shown as held by a deleted profile, until detached on purpose "
    "(detach by its profile_id). Answers how many codes it held.",
    data=DELETED,
    errors=LOOK_UP_ERRORS,
    example=MATCHING_EXAMPLE,
)
def profiles_delete(connection, args):
    key = args["profile_key"]
    return verbs.delete(connection, args["api_token"], db_id=args["db_id"], key=key).as_data()
