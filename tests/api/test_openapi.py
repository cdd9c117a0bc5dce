"""The OpenAPI document: valid OpenAPI 3.1, made from the schemas, with every answer."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from promo_app import create_app
from promo_app.api.verb import VERBS as VERBS_DECLARED
from promo_app.errors import PromoError
from promo_app.models import Database
from promo_app.profiles import add_profile
from tests.helpers import call

VERBS = ["attach", "import", "get", "activate", "update", "detach", "export_all", "generate"]
PROFILE_VERBS = ["import", "import_batch", "get", "delete"]  # tests/api/test_profiles_openapi.py
WRITING_VERBS = ["attach", "import", "activate", "update", "detach", "generate"]
KEY_TEXTS = [
    "Idempotency key was used with other parameters",
    "Idempotency key is in use by a call in progress",
]


@pytest.fixture
def document(client):
    response = client.get("/api/v1.1/openapi.json")
    assert (response.status_code, response.mimetype) == (200, "application/json")
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_the_document_describes_every_verb_in_every_format(document):
    assert document["servers"] == [{"url": "/api/v1.1"}]
    assert sorted(document["paths"]) == sorted(
        [f"/promocodes/{verb}" for verb in VERBS] + [f"/profiles/{verb}" for verb in PROFILE_VERBS]
    )
    for verb in VERBS:
        post = document["paths"][f"/promocodes/{verb}"]["post"]
        assert set(post["requestBody"]["content"]) == {
            "application/json",
            "application/xml",
            "application/x-www-form-urlencoded",
        }
        for answer in post["responses"].values():
            assert set(answer["content"]) == {"application/json", "application/xml"}


@pytest.mark.parametrize("verb", VERBS)
def test_request_bodies_are_the_marshmallow_schemas(document, verb):
    [schema] = [declared.schema for declared in VERBS_DECLARED if declared.name == verb]
    post = document["paths"][f"/promocodes/{verb}"]["post"]
    name = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    component = document["components"]["schemas"][name]
    assert set(component["properties"]) == set(schema.fields)
    required = {name for name, field in schema.fields.items() if field.required}
    assert set(component["required"]) == required - {"token"}
    assert component["additionalProperties"] is False
    assert component["xml"] == {"name": "xml"}


def error_texts(document, verb) -> dict[str, list[str]]:
    """Status -> the error_text values the document allows for it."""
    responses = document["paths"][f"/promocodes/{verb}"]["post"]["responses"]
    texts = {}
    for status, answer in responses.items():
        text = answer["content"]["application/json"]["schema"]["properties"]["error_text"]
        texts[status] = text.get("enum") or [text["const"]]
    return texts


@pytest.mark.parametrize(
    ("verb", "status", "texts"),
    [
        ("import", "404", ["Loyalty program not found"]),
        ("get", "404", ["Loyalty program not found", "Promo code not found"]),
        ("activate", "409", ["Promo code is not attached", "Promo code has expired", *KEY_TEXTS]),
        ("detach", "403", ["Access denied"]),
        (
            "detach",
            "409",
            ["Several profiles match", "Promo code is not attached", *KEY_TEXTS],
        ),
        (
            "attach",
            "409",
            [
                "Several profiles match",
                "Promo code is already attached",
                "Promo code has expired",
                "No promo codes available",
                *KEY_TEXTS,
            ],
        ),
        ("export_all", "401", ["API token required", "Invalid API token"]),
    ],
)
def test_each_verb_lists_the_errors_it_gives(document, verb, status, texts):
    assert error_texts(document, verb)[status] == texts


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_documents_the_common_error_rows(document, verb):
    statuses = set(error_texts(document, verb))
    assert {"200", "400", "401", "404", "413", "415", "429", "500"} <= statuses
    # Every verb checks what the token may reach (a program of its databases, its programs,
    # reading only): 403 is on every verb, not only on those that take db_id (issue 14).
    assert "403" in statuses


@pytest.mark.parametrize("verb", VERBS)
def test_writing_verbs_document_the_idempotency_key(document, verb):
    post = document["paths"][f"/promocodes/{verb}"]["post"]
    headers = [p["name"] for p in post["parameters"] if p["in"] == "header"]
    body = document["components"]["schemas"][
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    writes = verb in WRITING_VERBS
    assert (headers == ["Idempotency-Key"]) == writes
    assert ("idempotency_key" in body["properties"]) == writes
    assert (error_texts(document, verb).get("409", [])[-2:] == KEY_TEXTS) == writes
    assert "Retry-After" in post["responses"]["429"]["headers"]


def test_every_error_text_of_the_domain_appears_somewhere(document):
    documented = {
        text for verb in VERBS for texts in error_texts(document, verb).values() for text in texts
    }  # the profile verbs add no error_text of their own
    domain = {cls.error_text for cls in PromoError.__subclasses__()}
    # Not found and Method not allowed answer paths that are not verbs, so no operation has them;
    # detach gives the last one only under PROMO_COMPAT "altcraft", whose document lists it
    # (tests/api/test_platform_mode.py).
    assert domain - documented == {
        "Not found",
        "Method not allowed",
        "Promo code is attached to several profiles",
    }


def test_the_document_follows_the_mount_point_and_settings(database_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "x",
            "PROMO_URL_PREFIX": "/shop/",
            "PROMO_ATTACH_NULL_DATA": True,
        }
    )
    document = app.test_client().get("/shop/api/v1.1/openapi.json").get_json()
    assert document["servers"] == [{"url": "/shop/api/v1.1"}]
    attach = document["paths"]["/promocodes/attach"]["post"]["responses"]["200"]
    assert attach["content"]["application/json"]["schema"]["properties"]["data"] == {"type": "null"}
    validate(document)


def request_schema_of(document, verb) -> dict:
    body = document["paths"][f"/promocodes/{verb}"]["post"]["requestBody"]["content"]
    return body["application/json"]


@pytest.mark.parametrize("verb", VERBS)
def test_each_example_fits_its_own_schema(document, verb):
    media = request_schema_of(document, verb)
    # The document as the root, so that its #/components references resolve.
    validator = Draft202012Validator({**document, "$ref": media["schema"]["$ref"]})
    assert list(validator.iter_errors(media["example"])) == []
    assert list(validator.iter_errors({**media["example"], "colour": "red"})) != []


def test_the_examples_work_one_after_the_other(client, shop, session, document):
    """A client that copies the document's examples, in order, gets a success for each."""
    add_profile(session, session.get(Database, 1), email="john@example.com")
    session.commit()
    for verb in VERBS:
        example = request_schema_of(document, verb)["example"]
        status, body = call(client, verb, {**example, "token": shop.token})
        assert (verb, status, body["error_text"]) == (verb, 200, "Successful operation")
