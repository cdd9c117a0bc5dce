"""The OpenAPI 3.1 document of the API, made from the verbs' marshmallow schemas.

Parameters come from the request schemas (apispec's marshmallow plugin), answers from the
envelope around the answer schemas, and every error a verb can give from the domain errors
it raises, with their stable `error_text` values.
"""

from __future__ import annotations

import copy
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from .. import errors
from ..errors import PromoError
from ..profiles import MATCHING_MODES
from .envelope import SUCCESS_TEXT
from .schemas import (
    ActivateSchema,
    AttachDataSchema,
    AttachSchema,
    CodeParam,
    CodeStateSchema,
    DetachSchema,
    ExpireDateParam,
    ExportAllSchema,
    ExportItemSchema,
    GetSchema,
    ImportItemSchema,
    ImportSchema,
    ProfileMatchSchema,
    UpdateSchema,
)

OPENAPI_VERSION = "3.1.0"
ANSWER_TYPES = ("application/json", "application/xml")

# Every verb may answer these.
COMMON_ERRORS: tuple[type[PromoError], ...] = (
    errors.IncorrectRequest,
    errors.TokenRequired,
    errors.InvalidToken,
    errors.RequestTooLarge,
    errors.UnsupportedContentType,
    errors.TooManyRequests,
    errors.InternalError,
)

EXAMPLE_TOKEN = "abcdefghijklmnqrstuvwxyz"
MATCHING_EXAMPLE = {"db_id": 1, "matching": "email", "email": "john@example.com"}


class Verb:
    """One verb as the document describes it."""

    def __init__(
        self,
        name: str,
        schema: type[Schema],
        summary: str,
        description: str,
        data: dict[str, Any],
        errors: tuple[type[PromoError], ...],
        example: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.schema = schema
        self.summary = summary
        self.description = description
        self.data = data
        self.errors = errors
        self.example = {"token": EXAMPLE_TOKEN, "loyalty_id": 1, **example}
        self.extra = extra or {}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def verbs(attach_null_data: bool) -> list[Verb]:
    code_state = ref("CodeState")
    return [
        Verb(
            "attach",
            AttachSchema,
            "Attach a promo code to a profile",
            "With `code`: attach that code (creating it in the program if it is missing). "
            "Without: attach the oldest free, unexpired personal code of the program. "
            "The profile is named by `matching` and its identifier, or by the first of "
            "profile_id, email, phone, field_name+field_value that is given.",
            {"type": "null"} if attach_null_data else ref("AttachData"),
            (
                errors.AccessDenied,
                errors.DatabaseNotFound,
                errors.LoyaltyProgramNotFound,
                errors.ProfileNotFound,
                errors.SeveralProfilesMatch,
                errors.AlreadyAttached,
                errors.CodeExpired,
                errors.NoCodesAvailable,
            ),
            {**MATCHING_EXAMPLE, "code": "CODE-1"},
        ),
        Verb(
            "import",
            ImportSchema,
            "Add promo codes to a loyalty program",
            "Adds up to PROMO_IMPORT_MAX_CODES codes (10,000 unless configured) as the "
            "program's default kind, personal or universal. `data[i]` tells what became of "
            "`codes[i]`; codes past the limit are not looked at, only counted in "
            "`discarded_by_limit`. Sending the same list again is safe: its codes are "
            "reported as duplicates (409) and nothing changes.",
            {"type": "array", "items": ref("ImportItem"), "xml": {"wrapped": True}},
            (errors.LoyaltyProgramNotFound,),
            {"codes": ["CODE-1", "CODE-2"]},
            extra={
                "inserted": {"type": "integer", "description": "Codes added"},
                "duplicated": {"type": "integer", "description": "Codes already there"},
                "discarded_by_limit": {
                    "type": "integer",
                    "description": "Codes past the per-request limit, not looked at",
                },
            },
        ),
        Verb(
            "get",
            GetSchema,
            "Describe a promo code",
            "Answers the code's state: when it was added, attached, activated, and its expiry.",
            code_state,
            (errors.LoyaltyProgramNotFound, errors.PromoCodeNotFound),
            {"code": "CODE-1"},
        ),
        Verb(
            "activate",
            ActivateSchema,
            "Mark an attached promo code used",
            "Sets `activated` to now. A code that is attached to no profile is refused; "
            "so is an expired one. Activating an activated code again changes nothing.",
            code_state,
            (
                errors.LoyaltyProgramNotFound,
                errors.PromoCodeNotFound,
                errors.NotAttached,
                errors.CodeExpired,
            ),
            {"code": "CODE-1"},
        ),
        Verb(
            "update",
            UpdateSchema,
            "Change a promo code's activation or expiry",
            "Give `activated`, `expire_date` or both. activated=true marks the code used "
            "(keeping an earlier time), false clears it; expire_date sets the expiry, and "
            '"" or null clears it.',
            code_state,
            (errors.LoyaltyProgramNotFound, errors.PromoCodeNotFound),
            {"code": "CODE-1", "expire_date": "2030-12-31"},
        ),
        Verb(
            "detach",
            DetachSchema,
            "Detach a promo code from a profile",
            "Removes that profile's attachment. A personal code becomes free again, its "
            "activation cleared, and can be drawn from the pool by attach without a code; "
            "a universal code keeps its other profiles' attachments.",
            code_state,
            (
                errors.AccessDenied,
                errors.DatabaseNotFound,
                errors.LoyaltyProgramNotFound,
                errors.ProfileNotFound,
                errors.PromoCodeNotFound,
                errors.SeveralProfilesMatch,
                errors.NotAttached,
            ),
            {**MATCHING_EXAMPLE, "code": "CODE-1"},
        ),
        Verb(
            "export_all",
            ExportAllSchema,
            "List every promo code of a loyalty program",
            "Streams every code of the program in the order of the codes, in flat memory "
            "whatever the program's size. Errors (token, program) are answered before the "
            "stream starts, as ordinary envelopes.",
            {"type": "array", "items": ref("ExportItem"), "xml": {"wrapped": True}},
            (errors.LoyaltyProgramNotFound,),
            {},
        ),
    ]


def custom_fields(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """Describe the API's own marshmallow fields."""
    if isinstance(field, CodeParam):
        return {"minLength": 1, "maxLength": 255}
    if isinstance(field, ExpireDateParam):
        return {"type": ["string", "null"]}
    return {}


def build_document(server_url: str, attach_null_data: bool = False) -> dict[str, Any]:
    """Return the OpenAPI document of the API served at `server_url`."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Promo code API",
        version="1.1",
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": DESCRIPTION,
        },
        servers=[{"url": server_url}],
    )
    plugin.converter.add_attribute_function(custom_fields)
    spec.components.security_scheme(
        "bearerToken",
        {"type": "http", "scheme": "bearer", "description": "The API token as a Bearer token"},
    )
    spec.components.security_scheme(
        "queryToken",
        {"type": "apiKey", "in": "query", "name": "token", "description": "?token=..."},
    )
    for name, schema in (
        ("AttachData", AttachDataSchema),
        ("ImportItem", ImportItemSchema),
        ("CodeState", CodeStateSchema),
        ("ExportItem", ExportItemSchema),
    ):
        component = plugin.converter.schema2jsonschema(schema())
        component["xml"] = {"name": "item"}
        spec.components.schema(name, component=component)
    spec.components.schema("Errors", component=ERRORS_SCHEMA)

    for verb in verbs(attach_null_data):
        request_name = f"{verb.name.title().replace('_', '')}Request"
        spec.components.schema(request_name, component=request_schema(plugin, verb.schema))
        spec.path(path=f"/promocodes/{verb.name}", operations={"post": operation(verb)})
    document = spec.to_dict()
    document["security"] = [{}, {"bearerToken": []}, {"queryToken": []}]
    return document


def request_schema(plugin: MarshmallowPlugin, schema: type[Schema]) -> dict[str, Any]:
    component = copy.deepcopy(plugin.converter.schema2jsonschema(schema()))
    if issubclass(schema, ProfileMatchSchema):
        component.update(PROFILE_MATCHING_RULES)
    if issubclass(schema, UpdateSchema):
        # UpdateSchema's @validates_schema: something to change.
        component["anyOf"] = [{"required": ["activated"]}, {"required": ["expire_date"]}]
    # The token may come as a Bearer token or in the query string instead.
    component["required"] = [name for name in component["required"] if name != "token"]
    component["properties"]["token"]["description"] = (
        "API token; or give it as `Authorization: Bearer <token>` or `?token=`"
    )
    for name, prop in component["properties"].items():
        if "pattern" in prop:
            # Python's end of text, \Z, is spelled $ in the patterns of JSON Schema.
            prop["pattern"] = prop["pattern"].replace("\\Z", "$")
        if name in ("loyalty_id", "db_id"):
            prop["description"] += " (a string of digits is accepted too)"
    component["xml"] = {"name": "xml"}
    return component


def operation(verb: Verb) -> dict[str, Any]:
    request = ref(f"{verb.name.title().replace('_', '')}Request")
    responses = {"200": answer(verb)}
    by_status: dict[int, list[str]] = {}
    for error in (*COMMON_ERRORS, *verb.errors):
        texts = by_status.setdefault(error.error, [])
        if error.error_text not in texts:
            texts.append(error.error_text)
    for status in sorted(by_status):
        responses[str(status)] = failure(status, by_status[status])
    return {
        "operationId": verb.name,
        "summary": verb.summary,
        "description": verb.description,
        "parameters": [
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "Format of the answer; wins over Accept and the body's kind",
                "schema": {"type": "string", "enum": ["json", "xml"]},
            }
        ],
        "requestBody": {
            "required": True,
            "description": "The parameters, as a JSON object, an XML document whose root "
            "is <xml> with one element per parameter (a list as repeated elements; text/xml "
            "is accepted too), or a form.",
            "content": {
                "application/json": {"schema": request, "example": verb.example},
                "application/xml": {"schema": request},
                "application/x-www-form-urlencoded": {"schema": request},
            },
        },
        "responses": responses,
    }


def answer(verb: Verb) -> dict[str, Any]:
    properties = {
        "data": verb.data,
        "error": {"type": "integer", "const": 0},
        "error_text": {"type": "string", "const": SUCCESS_TEXT},
        **verb.extra,
    }
    schema = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
        "xml": {"name": "xml"},
    }
    return {
        "description": "Successful operation",
        "content": {media: {"schema": schema} for media in ANSWER_TYPES},
    }


def failure(status: int, texts: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["data", "error", "error_text"],
        "properties": {
            "data": {"type": "null"},
            "error": {"type": "integer", "const": status},
            "error_text": {"type": "string", "enum": texts},
            "errors": ref("Errors"),
        },
        "additionalProperties": False,
        "xml": {"name": "xml"},
    }
    return {
        "description": " or ".join(texts),
        "content": {media: {"schema": schema} for media in ANSWER_TYPES},
    }


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
is repeated `<item>` elements. The answer's format is `format`, else an Accept header
that prefers XML, else the body's kind, else JSON.
"""
