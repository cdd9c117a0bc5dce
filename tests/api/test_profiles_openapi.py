"""The profile verbs in the OpenAPI document: their parameters are the marshmallow schemas,
their errors are listed, and their examples work when a client copies them."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from promo_app.api.verb import VERBS as DECLARED

from .profile_calls import profiles

VERBS = ["import", "import_batch", "get", "delete"]


@pytest.fixture
def document(client):
    return client.get("/api/v1.1/openapi.json").get_json()


def post_of(document, verb: str) -> dict:
    return document["paths"][f"/profiles/{verb}"]["post"]


@pytest.mark.parametrize("verb", VERBS)
def test_request_bodies_are_the_marshmallow_schemas(document, verb):
    schema = next(v.schema for v in DECLARED if v.path == f"/profiles/{verb}")
    media = post_of(document, verb)["requestBody"]["content"]["application/json"]
    component = document["components"]["schemas"][media["schema"]["$ref"].split("/")[-1]]
    assert set(component["properties"]) == set(schema.fields)
    assert "loyalty_id" not in component["properties"]
    required = {name for name, field in schema.fields.items() if field.required}
    assert set(component["required"]) == required - {"token"}
    validator = Draft202012Validator({**document, "$ref": media["schema"]["$ref"]})
    assert list(validator.iter_errors(media["example"])) == []
    assert list(validator.iter_errors({**media["example"], "colour": "red"})) != []


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_lists_the_token_and_database_errors(document, verb):
    responses = post_of(document, verb)["responses"]
    texts = {
        status: answer["content"]["application/json"]["schema"]["properties"]["error_text"]
        for status, answer in responses.items()
    }
    assert texts["403"]["enum"] == ["Access denied"]
    assert "Database not found" in texts["404"]["enum"]
    assert {"200", "400", "401", "413", "415", "429", "500"} <= set(texts)


def test_the_examples_work_one_after_the_other(client, shop, document):
    """A client that copies the examples, in order, gets a success for each (the first
    import makes john@example.com; delete, last, removes him)."""
    for verb in ["import", "import_batch", "get", "delete"]:
        example = post_of(document, verb)["requestBody"]["content"]["application/json"]["example"]
        status, body = profiles(client, verb, {**example, "token": shop.token, "db_id": shop.db_id})
        assert (verb, status, body["error_text"]) == (verb, 200, "Successful operation")
