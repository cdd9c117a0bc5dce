"""PROMO_COMPAT: what the platform mode changes beside the page examples (those are in
test_platform_examples.py), and the setting itself: detach of a shared code, unknown
parameters, the deprecated alias, a bad value, the OpenAPI document of each mode."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from promo_app import create_app
from promo_app.models import Attachment
from tests.helpers import call

STRICT = {"PROMO_COMPAT": "altcraft"}
MODES = [pytest.param({}, id="extended"), pytest.param(STRICT, id="altcraft")]
PATH = "/api/v1.1/promocodes/"
OK_NULL = {"data": None, "error": 0, "error_text": "Successful operation"}


def attach(client, shop, code: str, loyalty_id: int, who: str = "alice") -> None:
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": loyalty_id,
        "profile_id": shop.profiles[who],
        "code": code,
    }
    status, body = call(client, "attach", params)
    assert status == 200, body


# detach of a code held by several profiles ----------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("app_config", MODES)
def test_detach_of_a_shared_code_is_refused_only_in_the_platform_mode(
    client, shop, app, session, fmt
):
    strict = app.config["PROMO_COMPAT"] == "altcraft"
    attach(client, shop, "SUMMER", shop.universal_id, "alice")
    attach(client, shop, "SUMMER", shop.universal_id, "bob")
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.universal_id,
        "profile_id": shop.profiles["alice"],
        "code": "SUMMER",
    }
    status, body = call(client, "detach", params, fmt)
    holders = session.scalar(select(func.count()).select_from(Attachment))
    if strict:
        # The platform: "if a specified code is attached to multiple profiles — an error".
        assert (status, body["error"], body["error_text"], holders) == (
            409,
            409,
            "Promo code is attached to several profiles",
            2,
        )
        # Once bob's attachment is the only one left, detach works.
        call(client, "detach", {**params, "profile_id": shop.profiles["bob"]})
    else:
        assert (status, holders) == (200, 1)  # our default: only alice's attachment goes


@pytest.mark.parametrize("app_config", [STRICT])
def test_detach_of_a_code_held_by_one_profile_works_in_the_platform_mode(client, shop, session):
    attach(client, shop, "SUMMER", shop.universal_id, "alice")
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.universal_id,
        "email": "alice@example.com",
        "code": "SUMMER",
    }
    assert call(client, "detach", params) == (200, OK_NULL)
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0


# unknown parameters -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
@pytest.mark.parametrize("app_config", MODES)
def test_unknown_body_parameters_are_ignored_only_in_the_platform_mode(client, shop, app, fmt):
    strict = app.config["PROMO_COMPAT"] == "altcraft"
    # A generic client of the platform sends db_id on every call.
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1", "db_id": 1}
    status, body = call(client, "get", params, fmt)
    if strict:
        assert (status, body["data"]["code"]) == (200, "FREE-1")
    else:
        assert (status, body["error_text"], list(body["errors"])) == (
            400,
            "Incorrect request",
            ["db_id"],
        )


@pytest.mark.parametrize("app_config", [STRICT])
def test_unknown_query_parameters_are_refused_in_the_platform_mode_too(client, shop):
    response = client.post(
        PATH + "get?db_id=1",
        json={"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1"},
    )
    assert (response.status_code, response.get_json()["error_text"]) == (400, "Incorrect request")


# the setting --------------------------------------------------------------------------


def test_the_old_null_data_setting_is_a_deprecated_alias_of_the_platform_mode(database_url, caplog):
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"}
    with caplog.at_level(logging.WARNING):
        app = create_app({**config, "PROMO_ATTACH_NULL_DATA": True})
    assert "PROMO_ATTACH_NULL_DATA is deprecated" in caplog.text
    document = app.test_client().get("/api/v1.1/openapi.json").get_json()
    for verb in ("attach", "activate", "update", "detach"):
        ok = document["paths"][f"/promocodes/{verb}"]["post"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["properties"]["data"] == {"type": "null"}


def test_an_unknown_mode_is_refused_when_the_app_starts(database_url):
    with pytest.raises(ValueError, match="PROMO_COMPAT must be one of"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PROMO_COMPAT": "strict"})


@pytest.mark.parametrize("app_config", MODES)
def test_the_document_describes_the_answers_of_the_running_mode(client, app):
    strict = app.config["PROMO_COMPAT"] == "altcraft"
    document = client.get("/api/v1.1/openapi.json").get_json()
    paths = document["paths"]
    for verb in ("attach", "activate", "update", "detach"):
        ok = paths[f"/promocodes/{verb}"]["post"]["responses"]["200"]
        data = ok["content"]["application/json"]["schema"]["properties"]["data"]
        assert (data == {"type": "null"}) == strict, verb
    item = document["components"]["schemas"]["ImportItem"]["properties"]
    assert ("Promocode duplicated" in item["error_text"]["enum"]) == strict
    assert ("" in item["error_text"]["enum"]) == strict
    detach_409 = paths["/promocodes/detach"]["post"]["responses"]["409"]["description"]
    assert ("Promo code is attached to several profiles" in detach_409) == strict
    request = document["components"]["schemas"]["GetRequest"]
    assert request["additionalProperties"] is strict
