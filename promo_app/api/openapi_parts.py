"""The OpenAPI document's fixed parts (openapi.py builds the rest from the verbs): the
profile matching rules in JSON Schema terms, the schema of `errors`, and the description."""

from __future__ import annotations

from typing import Any

from ..profiles import MATCHING_MODES


def _given(*names: str) -> dict[str, Any]:
    """A JSON Schema that holds when each of `names` is given as a string (null is absent)."""
    return {"required": list(names), "properties": {name: {"type": "string"} for name in names}}


# ProfileMatchSchema's cross-field rules (its @validates_schema), in JSON Schema terms.
PROFILE_MATCHING_RULES: dict[str, Any] = {
    "description": "Name the profile with `matching` and the identifier it names, or with "
    "the first given of profile_id, email, phone, field_name + field_value.",
    "allOf": [
        {
            "anyOf": [_given(n) for n in ("profile_id", "email", "phone")]
            + [_given("field_name", "field_value")]
        },
        # profile_id's form is checked only when it is the identifier used: `matching` is
        # profile_id, or not given (then a given profile_id comes first).
        {
            "if": {
                "anyOf": [
                    {"not": {"required": ["matching"]}},
                    {
                        "required": ["matching"],
                        "properties": {"matching": {"enum": ["profile_id", None]}},
                    },
                ]
            },
            "then": {"properties": {"profile_id": {"pattern": "^[0-9a-f]{24}$"}}},
        },
        {"if": _given("field_name"), "then": _given("field_value")},
        {"if": _given("field_value"), "then": _given("field_name")},
        *(
            {
                "if": {"required": ["matching"], "properties": {"matching": {"const": mode}}},
                "then": _given("field_name", "field_value") if mode == "custom" else _given(mode),
            }
            for mode in MATCHING_MODES
        ),
    ],
}

ERRORS_SCHEMA = {
    "type": "object",
    "description": "Details: field name -> messages. In XML, one "
    '<field name="...">message</field> element per message.',
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

DESCRIPTION = """\
A self-hosted promo code service. Every verb is `POST {server}/promocodes/{verb}`.

The body is JSON, XML (root `<xml>`, one element per parameter, a list as repeated
elements; no DTDs or entities) or a form. `token` and `format` may also be given in the
query string, and the token as `Authorization: Bearer <token>`; a parameter given twice
with different values is a 400.

Every answer is one envelope, `{"data": ..., "error": <int>, "error_text": <str>}`, in
XML `<xml><data>...</data><error>0</error><error_text>...</error_text></xml>`. The HTTP
status equals `error`, except that 0 is 200. `error_text` values are stable. In XML,
booleans are `true`/`false`, null and "" are empty elements, and a list that is `data`
is one `<data>` element per item, repeated at the root (an empty list is one `<data/>`).
The answer's format is `format`, else an Accept header that prefers XML, else the body's
kind, else JSON.
"""
