"""Parameters of `generate`, our extension of the verb family: new codes from a pattern."""

from __future__ import annotations

from marshmallow import fields, validate

from ..generating.patterns import ALPHABETS, DEFAULT_ALPHABET, MIN_BITS
from .schemas import ExpireDateParam, IntParam, VerbSchema


class GenerateSchema(VerbSchema):
    count = IntParam(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "How many new codes (at most PROMO_IMPORT_MAX_CODES a call)"},
    )
    pattern = fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "What a code looks like: # a digit, @ a letter, * either; other "
            "characters are kept as they are",
            "example": "****-****",
        },
    )
    prefix = fields.String(
        load_default="",
        validate=validate.Length(max=255),
        metadata={"description": "Text before the pattern, kept as it is"},
    )
    suffix = fields.String(
        load_default="",
        validate=validate.Length(max=255),
        metadata={"description": "Text after the pattern, kept as it is"},
    )
    alphabet = fields.String(
        load_default=DEFAULT_ALPHABET,
        validate=validate.OneOf(list(ALPHABETS)),
        metadata={
            "description": "unambiguous (default: no 0/O, 1/I/L, 5/S, 2/Z, 8/B) or full "
            "(A-Z and 0-9)"
        },
    )
    expire_date = ExpireDateParam(
        metadata={"description": "Expiry of the new codes: RFC 3339 time or YYYY-MM-DD"}
    )
    force = fields.Boolean(
        load_default=False,
        metadata={"description": f"true allows a pattern under {MIN_BITS} bits of randomness"},
    )


GENERATED_DATA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "description": "A code added to the program"}},
        "additionalProperties": False,
        "xml": {"name": "item"},
    },
    "xml": {"wrapped": True},
}
