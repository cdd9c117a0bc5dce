"""Parameters of the API verbs. marshmallow validates every one; unknown ones are refused."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from ..codes import InvalidCode, normalize_code
from ..profiles import MATCHING_MODES, ProfileKey
from ..text import unstorable
from ..times import parse_expire_date

MAX_ID = 2**31 - 1
PROFILE_ID = re.compile(r"[0-9a-f]{24}\Z")

# Digits of the largest id and then some; longer strings are refused before int() reads them.
MAX_ID_DIGITS = 20


class TextParam(fields.String):
    """A string that every database can store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = unstorable(text)
        if problem:
            raise ValidationError(problem)
        return text


class IntParam(fields.Integer):
    """An integer given as a number (JSON) or as its decimal digits (XML, form)."""

    default_error_messages = {
        "invalid": "Not a valid integer.",
        "too_long": f"Not a valid id: more than {MAX_ID_DIGITS} digits.",
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str):
            value = value.strip()
            digits = value.lstrip("-")
            if not digits.isdigit() or not value.isascii():
                raise self.make_error("invalid")
            if len(digits) > MAX_ID_DIGITS:
                raise self.make_error("too_long")
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise self.make_error("invalid")


class CodeParam(fields.String):
    """A promo code: trimmed, 1-255 printable characters."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_code(text)
        except InvalidCode as error:
            raise ValidationError(str(error)) from None


def db_id_param(**kwargs: Any) -> IntParam:
    return IntParam(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class VerbSchema(Schema):
    """What every verb takes: the token, the program and the answer's format."""

    class Meta:
        unknown = RAISE

    token = fields.String(required=True, metadata={"description": "API token"})
    loyalty_id = IntParam(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Loyalty program ID"},
    )
    format = fields.String(
        validate=validate.OneOf(["json", "xml"]),
        allow_none=True,
        metadata={"description": "Response data format. By default json"},
    )


class ProfileMatchSchema(VerbSchema):
    """A verb that names a profile of a database: `db_id` and the matching identifiers."""

    db_id = db_id_param(required=True, metadata={"description": "Database ID"})
    matching = fields.String(
        validate=validate.OneOf(MATCHING_MODES),
        allow_none=True,
        metadata={"description": "Profiles matching mode"},
    )
    # Its form (24 lowercase hex characters) is checked only when it is the identifier
    # used: with `matching` naming another, it is ignored (check_matching).
    profile_id = fields.String(
        allow_none=True,
        metadata={"description": "Profile ID: 24 lowercase hexadecimal characters"},
    )
    email = TextParam(
        validate=validate.Length(min=1, max=320),
        allow_none=True,
        metadata={"description": "Email address"},
    )
    phone = TextParam(
        validate=validate.Length(min=1, max=64),
        allow_none=True,
        metadata={"description": "Phone number"},
    )
    field_name = TextParam(
        validate=validate.Length(min=1, max=255),
        allow_none=True,
        metadata={"description": "Custom database field for profile matching"},
    )
    field_value = TextParam(
        validate=validate.Length(max=1024),
        allow_none=True,
        metadata={"description": "Custom field value"},
    )

    @validates_schema
    def check_matching(self, data: dict[str, Any], **kwargs: Any) -> None:
        has_name = data.get("field_name") is not None
        has_value = data.get("field_value") is not None
        if has_name != has_value:
            missing = "field_value" if has_name else "field_name"
            raise ValidationError("field_name and field_value go together.", missing)
        mode = data.get("matching")
        if mode is not None:
            wanted = ("field_name", "field_value") if mode == "custom" else (mode,)
            for name in wanted:
                if data.get(name) is None:
                    raise ValidationError(f"Required when matching is {mode!r}.", name)
        elif _first_identifier(data) is None:
            raise ValidationError(
                "Name the profile: profile_id, email, phone, or field_name with field_value.",
                "matching",
            )
        if (mode or _first_identifier(data)) == "profile_id" and not PROFILE_ID.match(
            data["profile_id"]
        ):
            raise ValidationError(
                "A profile_id is 24 lowercase hexadecimal characters.", "profile_id"
            )

    @post_load
    def make_profile_key(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        mode = data.get("matching") or _first_identifier(data)
        if mode == "custom":
            key = ProfileKey("custom", data["field_value"], data["field_name"])
        else:
            key = ProfileKey(mode, data[mode])
        return {**data, "profile_key": key}


def _first_identifier(data: dict[str, Any]) -> str | None:
    for mode in MATCHING_MODES:
        name = "field_name" if mode == "custom" else mode
        if data.get(name) is not None:
            return mode
    return None


class AttachSchema(ProfileMatchSchema):
    code = CodeParam(allow_none=True, metadata={"description": "Promo code"})


class ExpireDateParam(fields.Field):
    """An expiry: an RFC 3339 time or a date (valid through that day, UTC); "" or null clears."""

    default_error_messages = {"invalid": "Not a valid date or time."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime | None:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not value.strip():
            return None
        try:
            return parse_expire_date(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class CodeSchema(VerbSchema):
    """A verb about one code of the program."""

    code = CodeParam(required=True, metadata={"description": "Promo code"})


class ImportSchema(VerbSchema):
    codes = fields.List(
        fields.String(allow_none=True),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "Promo codes to add to the program. In XML, one <codes> element "
            "per code; in a form, one codes=... pair per code."
        },
    )

    @pre_load
    def one_code_is_a_list(self, data: Any, **kwargs: Any) -> Any:
        # A single <codes> element (XML) or codes=... pair (form) reads as a string.
        if isinstance(data, dict) and isinstance(data.get("codes"), str):
            return {**data, "codes": [data["codes"]]}
        return data


class GetSchema(CodeSchema):
    pass


class ActivateSchema(CodeSchema):
    pass


class UpdateSchema(CodeSchema):
    activated = fields.Boolean(
        metadata={"description": "true marks the code used (now), false clears that"}
    )
    expire_date = ExpireDateParam(
        metadata={
            "description": 'New expiry: RFC 3339 time or YYYY-MM-DD (end of that day, UTC); "" '
            "or null clears it"
        }
    )

    @validates_schema
    def check_something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "activated" not in data and "expire_date" not in data:
            message = ["Give activated, expire_date or both."]
            raise ValidationError({"activated": message, "expire_date": message})


class DetachSchema(ProfileMatchSchema):
    code = CodeParam(required=True, metadata={"description": "Promo code"})


class ExportAllSchema(VerbSchema):
    pass
