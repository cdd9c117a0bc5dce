"""The OpenAPI 3.1 document of the API, made from the verbs' marshmallow schemas.

Parameters come from the request schemas (apispec's marshmallow plugin), answers from the
envelope around the answer schemas, and every error a verb can give from the domain errors
it raises, with their stable `error_text` values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from .. import errors
from ..compat import is_strict
from ..errors import PromoError
from ..verbs import PLATFORM_IMPORT_OUTCOMES
from .answer_schemas import AttachDataSchema, CodeStateSchema, ExportItemSchema, ImportItemSchema
from .envelope import SUCCESS_TEXT
from .idempotent import HEADER, REPLAYED_HEADER
from .openapi_parts import DESCRIPTION, ERRORS_SCHEMA, PROFILE_MATCHING_RULES
from .schemas import (
    CodeParam,
    ExpireDateParam,
    ProfileMatchSchema,
    UpdateSchema,
)
from .verb import VERBS, Verb

OPENAPI_VERSION = "3.1.0"
ANSWER_TYPES = ("application/json", "application/xml")

# Every verb may answer these.
COMMON_ERRORS: tuple[type[PromoError], ...] = (
    errors.IncorrectRequest,
    errors.TokenRequired,
    errors.InvalidToken,
    # A token limited to databases, programs or reading (access.py), on every verb.
    errors.AccessDenied,
    errors.RequestTooLarge,
    errors.UnsupportedContentType,
    errors.TooManyRequests,
    errors.InternalError,
)

# A writing verb may answer these too.
WRITING_ERRORS: tuple[type[PromoError], ...] = (
    errors.IdempotencyKeyReused,
    errors.IdempotencyKeyInProgress,
)

EXAMPLE_TOKEN = "abcdefghijklmnqrstuvwxyz"

KEY_HEADER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "A key of yours (1-255 characters) for this call: a retry with the same key "
    "and parameters answers the first call's answer without doing it again; with other "
    "parameters it is a 409. Keys belong to the token and live PROMO_IDEMPOTENCY_TTL_SECONDS "
    "(24 hours unless configured). Same as the idempotency_key parameter.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
RETRY_AFTER = {
    "description": "Seconds until the token's limit lets a call through again",
    "schema": {"type": "integer", "minimum": 1},
}
REPLAYED = {
    "description": "true when this is the stored answer of an earlier call with the same "
    "Idempotency-Key",
    "schema": {"type": "string", "const": "true"},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def custom_fields(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """Describe the API's own marshmallow fields."""
    if isinstance(field, CodeParam):
        return {"minLength": 1, "maxLength": 255}
    if isinstance(field, ExpireDateParam):
        return {"type": ["string", "null"]}
    return {}


def build_document(server_url: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the OpenAPI document of the API served at `server_url`, with the app's
    settings `config`: it describes the answers of the PROMO_COMPAT mode they name."""
    strict = is_strict(config)
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
        component = copy.deepcopy(plugin.converter.schema2jsonschema(schema()))
        # `data` itself, or (for a list) each of the <data> elements repeated at the root.
        component["xml"] = {"name": "data"}
        if name == "ImportItem" and strict:
            outcomes = PLATFORM_IMPORT_OUTCOMES
            component["properties"]["error"]["enum"] = [error for error, _ in outcomes]
            component["properties"]["error_text"]["enum"] = [text for _, text in outcomes]
        spec.components.schema(name, component=component)
    spec.components.schema("Errors", component=ERRORS_SCHEMA)

    for verb in VERBS:
        request_name = f"{verb.name.title().replace('_', '')}Request"
        component = request_schema(plugin, verb.schema, strict)
        spec.components.schema(request_name, component=component)
        spec.path(path=verb.path, operations={"post": operation(verb, strict)})
    document = spec.to_dict()
    document["security"] = [{}, {"bearerToken": []}, {"queryToken": []}]
    return document


def request_schema(plugin: MarshmallowPlugin, schema: Schema, strict: bool) -> dict[str, Any]:
    component = copy.deepcopy(plugin.converter.schema2jsonschema(schema))
    if strict:
        # Unknown body parameters are ignored under PROMO_COMPAT "altcraft".
        component["additionalProperties"] = True
    if isinstance(schema, ProfileMatchSchema) and getattr(schema, "identifier_required", True):
        component.update(PROFILE_MATCHING_RULES)
    if isinstance(schema, UpdateSchema):
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


def operation(verb: Verb, strict: bool) -> dict[str, Any]:
    request = ref(f"{verb.name.title().replace('_', '')}Request")
    responses = {"200": answer(verb, verb.strict_null_data and strict)}
    by_status: dict[int, list[str]] = {}
    for error in (
        *COMMON_ERRORS,
        *verb.errors,
        *(verb.strict_errors if strict else ()),
        *(WRITING_ERRORS if verb.writes else ()),
    ):
        texts = by_status.setdefault(error.error, [])
        if error.error_text not in texts:
            texts.append(error.error_text)
    for status in sorted(by_status):
        responses[str(status)] = failure(status, by_status[status])
    responses["429"]["headers"] = {"Retry-After": RETRY_AFTER}
    if verb.writes:
        responses["200"]["headers"] = {REPLAYED_HEADER: REPLAYED}
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
            },
            *([KEY_HEADER] if verb.writes else []),
        ],
        "requestBody": {
            "required": True,
            "description": "The parameters, as a JSON object, an XML document whose root "
            "is <xml> with one element per parameter (a list as repeated elements; text/xml "
            "is accepted too), or a form.",
            "content": {
                "application/json": {"schema": request, "example": example(verb)},
                "application/xml": {"schema": request},
                "application/x-www-form-urlencoded": {"schema": request},
            },
        },
        "responses": responses,
    }


def example(verb: Verb) -> dict[str, Any]:
    program = {"loyalty_id": 1} if "loyalty_id" in verb.schema.fields else {}
    return {"token": EXAMPLE_TOKEN, **program, **verb.example}


def answer(verb: Verb, null_data: bool) -> dict[str, Any]:
    properties = {
        "data": {"type": "null"} if null_data else verb.data,
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
