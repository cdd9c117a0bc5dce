"""Property-based test of the whole API against its own OpenAPI document (schemathesis).

Every verb is called in process with generated bodies, valid and invalid, in JSON, XML and
form encoding; every answer must not be a 5xx and must match the document: status code,
content type and body schema, XML answers included (read back by the deserializer below,
which follows the document's `xml` hints).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from promo_app.codes import get_program
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Database
from promo_app.profiles import add_profile
from promo_app.tokens import create_token
from tests.helpers import call

not_a_server_error = schemathesis.checks.not_a_server_error
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
XML_ANSWERS: list[str] = []
STATUSES: list[tuple[str, int]] = []
RESTRICTED_STATUSES: list[tuple[str, int]] = []
# Values that exist in the test shop (see the `shop` fixture and `api_schema`).
REAL_VALUES: dict[str, list[Any]] = {
    "loyalty_id": [1, 2, 3],
    "db_id": [1, 2],
    "code": ["FREE-1", "FREE-2", "SUMMER", "CODE-1"],
    "codes": [["FREE-1", "NEW", " NEW ", ""]],
    "email": ["alice@example.com", "bob@example.com", "twin@example.com", "john@example.com"],
    "phone": ["+7 900 000-00-01", "+79000000002"],
    "matching": ["email", "profile_id"],
    "field_name": ["card"],
    "field_value": ["1001", "7"],
    "activated": [True, False],
    "expire_date": ["2020-01-01", "2099-12-31T00:00:00Z", ""],
}
EXAMPLES = 50  # per verb, mode and token
# A call of each verb that succeeds on the shop of `api_schema` (CODE-1 and FREE-2 attached).
SUCCEEDS: dict[str, dict[str, Any]] = {
    "attach": {"db_id": 1, "loyalty_id": 1, "email": "bob@example.com"},
    "import": {"loyalty_id": 1, "codes": ["KNOWN-1"]},
    "get": {"loyalty_id": 1, "code": "CODE-1"},
    "activate": {"loyalty_id": 1, "code": "FREE-2"},
    "update": {"loyalty_id": 1, "code": "CODE-1", "expire_date": "2099-12-31"},
    "detach": {"db_id": 1, "loyalty_id": 1, "email": "alice@example.com", "code": "FREE-2"},
    "export_all": {"loyalty_id": 1},
    "profiles/import": {"db_id": 1, "data": {"email": "known@example.com"}},
    "profiles/import_batch": {"db_id": 1, "data": [{"email": "known@example.com"}]},
    "profiles/get": {"db_id": 1, "email": "alice@example.com"},
    "profiles/delete": {"db_id": 1, "email": "bob@example.com"},
}
# And calls known to meet a domain error (codes that are attached to nobody).
KNOWN_ERRORS: dict[str, tuple[tuple[dict[str, Any], int], ...]] = {
    "activate": (({"loyalty_id": 1, "code": "FREE-1"}, 409),),
    "detach": (({"db_id": 1, "loyalty_id": 1, "email": "bob@example.com", "code": "CODE-1"}, 409),),
}


@schemathesis.deserializer("application/xml")
def read_xml(ctx, response) -> Any:
    """Read an XML answer into the JSON shape that the document's schema describes."""
    XML_ANSWERS.append(ctx.operation.path)
    document = ctx.operation.schema.raw_schema
    answer = document["paths"][ctx.operation.path][ctx.operation.method.lower()]["responses"]
    schema = answer[str(response.status_code)]["content"]["application/xml"]["schema"]
    parsed = xmltodict.parse(response.content)
    return from_xml(parsed.get("xml"), schema, document)


def resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def from_xml(value: Any, schema: dict, document: dict, name: str = "") -> Any:
    """Turn xmltodict's text into the types `schema` names; leave what does not fit as it is,
    so that validation reports it."""
    schema = resolve(schema, document)
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if value is None:
        if "null" in types:
            return None
        if "string" in types:
            return ""
        if "array" in types:
            return []
        return None
    if name == "errors" and isinstance(value, dict):
        # <errors><field name="x">message</field>...</errors>, as the document describes it
        items = value.get("field", [])
        messages: dict[str, list[str]] = {}
        for item in items if isinstance(items, list) else [items]:
            messages.setdefault(item["@name"], []).append(item.get("#text", ""))
        return messages
    if "object" in types and isinstance(value, dict):
        properties = schema.get("properties", {})
        read = {
            key: from_xml(item, properties.get(key, {}), document, key)
            for key, item in value.items()
        }
        for key, prop in properties.items():
            # An empty list inside data has no element at all in XML.
            if key not in read and resolve(prop, document).get("type") == "array":
                read[key] = []
        return read
    if "array" in types and isinstance(value, dict | list):
        item_schema = resolve(schema.get("items", {}), document)
        tag = item_schema.get("xml", {}).get("name", name)
        if schema.get("xml", {}).get("wrapped"):
            # <name><tag>…</tag><tag>…</tag></name>
            value = value.get(tag, []) if isinstance(value, dict) else value
        # Not wrapped: the elements are repeated in place (`data`: at the root); xmltodict
        # reads several as a list and one as that item alone.
        items = value if isinstance(value, list) else [value]
        return [from_xml(item, item_schema, document, tag) for item in items]
    if isinstance(value, str):
        if "integer" in types and value.lstrip("-").isdigit():
            return int(value)
        if "boolean" in types and value in ("true", "false"):
            return value == "true"
    return value


VERBS = ["attach", "import", "get", "activate", "update", "detach", "export_all"]
PROFILE_VERBS = ["profiles/import", "profiles/import_batch", "profiles/get", "profiles/delete"]


@pytest.fixture
def api_schema(app, shop, session):
    """The document as the running app serves it, with a shop behind it that has data
    where the document's examples point: database 1, program 1, CODE-1, john@example.com."""
    add_profile(session, session.get(Database, 1), email="john@example.com")
    import_codes(session, get_program(session, 1), [ImportLine(1, "CODE-1")])
    session.commit()
    for code, email in (("CODE-1", "john@example.com"), ("FREE-2", "alice@example.com")):
        params = {"token": shop.token, "db_id": 1, "loyalty_id": 1, "email": email, "code": code}
        assert call(app.test_client(), "attach", params)[0] == 200
    schema = schemathesis.openapi.from_wsgi("/api/v1.1/openapi.json", app)
    schema.config.generation.update(with_security_parameters=False)
    return schema


@pytest.fixture
def restricted_token(shop, session) -> str:
    """A token limited to the shop's database (1, whose programs are 1-3): calls that name
    database 2, or a program it does not own, are 403s the document lists."""
    token = create_token(session, "restricted", [shop.db_id])
    session.commit()
    return token


@pytest.mark.parametrize(
    ("mode", "token_kind"),
    [
        (GenerationMode.POSITIVE, "unrestricted"),
        (GenerationMode.NEGATIVE, "unrestricted"),
        (GenerationMode.POSITIVE, "restricted"),
    ],
)
@pytest.mark.parametrize("verb", VERBS + PROFILE_VERBS)
def test_every_answer_matches_the_document(
    api_schema, shop, restricted_token, verb, mode, token_kind
):
    token = shop.token if token_kind == "unrestricted" else restricted_token
    path = f"/{verb}" if verb.startswith("profiles/") else f"/promocodes/{verb}"
    operation = api_schema[path]["POST"]
    if mode == GenerationMode.POSITIVE and token_kind == "unrestricted":
        # Calls known to succeed (and to meet a domain error), so that every verb's answers
        # are checked against the document whatever the generated calls below reach.
        for params, status in ((SUCCEEDS[verb], 200), *KNOWN_ERRORS.get(verb, ())):
            body = {"token": token, **params}
            known = operation.Case(body=body, media_type="application/json")
            response = known.call_and_validate(checks=CHECKS)
            assert response.status_code == status, response.text
            STATUSES.append((verb, response.status_code))
    # Bodies come in every type the document lists: JSON, XML and form.
    strategy = operation.as_strategy(generation_mode=mode)

    @given(case=strategy, data=st.data())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case, data):
        if isinstance(case.body, dict):
            # The shop's real token, so that calls reach past authentication, and now and
            # then the shop's real ids, codes and customers, so that they reach past 404.
            case.body["token"] = token
            real = {**REAL_VALUES, "profile_id": list(shop.profiles.values())}
            for name, values in real.items():
                if name in case.body and data.draw(st.integers(0, 3)) > 0:
                    case.body[name] = data.draw(st.sampled_from(values))
        response = case.call_and_validate(checks=CHECKS)
        STATUSES.append((verb, response.status_code))
        if token_kind == "restricted":
            RESTRICTED_STATUSES.append((verb, response.status_code))

    call()


def test_the_property_test_reached_every_kind_of_answer():
    """Runs after the property test (same module, file order): XML answers were read and
    checked, and every verb got past validation to a success and to its domain errors."""
    if not STATUSES:
        pytest.skip("run it with test_every_answer_matches_the_document (the whole module)")
    assert XML_ANSWERS, "no XML answer went through the deserializer"
    seen = {(verb, status) for verb, status in STATUSES}
    print("\nschemathesis answers:", sorted(Counter(STATUSES).items()))
    for verb in VERBS:
        assert {(verb, 200), (verb, 400), (verb, 404)} <= seen, verb
    for verb in PROFILE_VERBS:
        assert {(verb, 200), (verb, 400)} <= seen, verb
    assert {("activate", 409), ("detach", 409)} <= seen
    # The restricted token reached both sides of its limit.
    restricted = {status for _verb, status in RESTRICTED_STATUSES}
    assert {200, 403} <= restricted, sorted(Counter(RESTRICTED_STATUSES).items())
