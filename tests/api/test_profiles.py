"""`profiles/import`, `profiles/get` and `profiles/delete`: a customer made, found, changed
and deleted over the API, as a shop's site would."""

from __future__ import annotations

import re

import pytest

from ..helpers import call
from .profile_calls import count_profiles, profiles, stored


def truthy(value) -> bool:
    """A boolean as JSON (true) or XML ("true") gives it."""
    return value in (True, "true")


@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
def test_import_creates_a_profile_when_none_matches(client, session, shop, fmt):
    before = count_profiles(session)
    params = {"token": shop.token, "db_id": shop.db_id, "email": "New@Example.com"}
    if fmt == "form":
        params |= {"data.phone": "+7 900 123-45-67", "data.card": "555"}
    else:
        params |= {"data": {"phone": "+7 900 123-45-67", "card": "555"}}
    status, body = profiles(client, "import", params, fmt)

    assert (status, body["error"], body["error_text"]) == (200, 0, "Successful operation")
    profile_id = body["data"]["profile_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", profile_id)
    assert truthy(body["data"]["created"])
    assert count_profiles(session) == before + 1
    assert stored(session, profile_id) == {
        "email": "New@Example.com",
        "email_key": "new@example.com",
        "phone": "+7 900 123-45-67",
        "phone_key": "+79001234567",
        "deleted": None,
        "fields": {"card": "555"},
    }


def test_import_updates_the_one_profile_that_matches(client, session, shop):
    alice = shop.profiles["alice"]
    status, body = profiles(
        client,
        "import",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "matching": "email",
            "email": "  ALICE@example.com ",
            "data": {"phone": "+7 900 555-55-55", "card": "2002"},
        },
    )
    assert (status, body["data"]) == (200, {"profile_id": alice, "created": False})
    row = stored(session, alice)
    assert (row["email"], row["phone_key"], row["fields"]) == (
        "Alice@Example.com",
        "+79005555555",
        {"card": "2002"},
    )


def test_import_by_custom_field_or_by_data_alone(client, session, shop):
    alice = shop.profiles["alice"]
    by_card = {"matching": "custom", "field_name": "card", "field_value": "1001"}
    status, body = profiles(
        client,
        "import",
        {"token": shop.token, "db_id": shop.db_id, **by_card, "data": {"email": "a@new.example"}},
    )
    assert (status, body["data"]["profile_id"]) == (200, alice)
    assert stored(session, alice)["email_key"] == "a@new.example"

    # No identifier at the top: the data's email finds it (the new one now).
    status, body = profiles(
        client,
        "import",
        {"token": shop.token, "db_id": shop.db_id, "data": {"email": "A@NEW.example", "card": ""}},
    )
    assert (status, body["data"]["profile_id"]) == (200, alice)
    assert stored(session, alice)["fields"] == {}  # "" cleared it


def test_import_by_a_new_custom_value_makes_a_profile_holding_it(client, session, shop):
    params = {"token": shop.token, "db_id": shop.db_id, "matching": "custom"}
    params |= {"field_name": "card", "field_value": "9999"}
    status, body = profiles(client, "import", params)
    assert status == 200 and body["data"]["created"] is True
    assert stored(session, body["data"]["profile_id"])["fields"] == {"card": "9999"}
    again = profiles(client, "import", params)[1]["data"]
    assert again == {"profile_id": body["data"]["profile_id"], "created": False}


@pytest.mark.parametrize(
    ("params", "status", "error_text", "named"),
    [
        ({"matching": "profile_id", "profile_id": "0" * 24}, 404, "Profile not found", None),
        ({"email": "twin@example.com"}, 409, "Several profiles match", None),
        (
            {"matching": "custom", "field_name": "card", "field_value": "7"},
            409,
            "Several profiles match",
            None,
        ),
        (
            {"email": "bob@example.com", "data": {"nope": "1"}},
            400,
            "Incorrect request",
            "data.nope",
        ),
        (
            {"matching": "email", "data": {"phone": "+79000000009"}},
            400,
            "Incorrect request",
            "email",
        ),
        ({"data": {"card": "5"}}, 400, "Incorrect request", "matching"),
        (
            {"email": "bob@example.com", "data": {"phone": "()"}},
            400,
            "Incorrect request",
            "data.phone",
        ),
        (
            {"email": "bob@example.com", "data": {"card": {"x": 1}}},
            400,
            "Incorrect request",
            "data.card",
        ),
        (
            {"matching": "custom", "field_name": "nope", "field_value": "1"},
            400,
            "Incorrect request",
            "field_name",
        ),
        # Equal under our normalisation to another profile's email or phone.
        (
            {"email": "bob@example.com", "data": {"email": " ALICE@example.COM"}},
            409,
            "Several profiles match",
            "data.email",
        ),
        (
            {"email": "bob@example.com", "data": {"phone": "+7 (900) 000-00-01"}},
            409,
            "Several profiles match",
            "data.phone",
        ),
        (
            {"email": "new@example.com", "data": {"phone": "+79000000002"}},
            409,
            "Several profiles match",
            "data.phone",
        ),
    ],
)
def test_import_refusals_write_nothing(client, session, shop, params, status, error_text, named):
    before = {name: stored(session, profile_id) for name, profile_id in shop.profiles.items()}
    count = count_profiles(session)
    answer_status, body = profiles(
        client, "import", {"token": shop.token, "db_id": shop.db_id, **params}
    )
    assert (answer_status, body["error"], body["error_text"], body["data"]) == (
        status,
        status,
        error_text,
        None,
    )
    if named:
        assert named in body["errors"]
    assert count_profiles(session) == count
    assert {name: stored(session, pid) for name, pid in shop.profiles.items()} == before


@pytest.mark.parametrize("verb", ["import", "get", "delete"])
def test_every_profile_verb_checks_the_token_and_the_database(client, shop, verb):
    params = {"db_id": shop.db_id, "email": "bob@example.com"}
    assert profiles(client, verb, params)[1]["error_text"] == "API token required"
    assert (
        profiles(client, verb, {**params, "token": "wrong"})[1]["error_text"] == "Invalid API token"
    )
    status, body = profiles(client, verb, {**params, "token": shop.limited_token})
    assert (status, body["error_text"]) == (403, "Access denied")
    status, body = profiles(client, verb, {**params, "token": shop.token, "db_id": 999})
    assert (status, body["error_text"]) == (404, "Database not found")
    status, body = profiles(client, verb, {**params, "token": shop.token, "loyalty_id": 1})
    assert (status, list(body["errors"])) == (400, ["loyalty_id"])


def attach(client, shop, loyalty_id: int, **profile):
    params = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, **profile}
    return call(client, "attach", params)


def test_get_answers_the_profile_its_fields_and_its_codes_in_every_program(client, shop):
    first = attach(client, shop, shop.personal_id, email="alice@example.com")[1]["data"]
    summer = attach(client, shop, shop.universal_id, email="alice@example.com", code="SUMMER")
    call(
        client,
        "activate",
        {"token": shop.token, "loyalty_id": shop.personal_id, "code": first["code"]},
    )
    status, body = profiles(
        client, "get", {"token": shop.token, "db_id": shop.db_id, "phone": "+79000000001"}
    )
    assert status == 200
    data = body["data"]
    activated = data["codes"][0].pop("activated")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", activated)
    assert data == {
        "profile_id": shop.profiles["alice"],
        "email": "Alice@Example.com",
        "phone": "+7 (900) 000-00-01",
        "fields": [{"name": "card", "value": "1001"}],
        "codes": [
            {
                "code": first["code"],
                "loyalty_id": shop.personal_id,
                "attached": first["attached"],
                "expire_date": "",
            },
            {
                "code": "SUMMER",
                "loyalty_id": shop.universal_id,
                "attached": summer[1]["data"]["attached"],
                "activated": "",
                "expire_date": "",
            },
        ],
    }


def test_get_in_xml_reads_back_the_same(client, shop):
    attach(client, shop, shop.personal_id, email="bob@example.com")
    params = {"token": shop.token, "db_id": shop.db_id, "email": "bob@example.com"}
    json_data = profiles(client, "get", params)[1]["data"]
    status, body = profiles(client, "get", params, "xml")
    assert status == 200
    assert body["data"]["profile_id"] == json_data["profile_id"]
    assert body["data"]["codes"]["code"] == json_data["codes"][0]["code"]
    # An empty list has no elements in XML.
    assert body["data"].get("fields") is None and json_data["fields"] == []


def test_delete_keeps_its_codes_taken_and_says_how_many(client, session, shop):
    bob = shop.profiles["bob"]
    code = attach(client, shop, shop.personal_id, email="bob@example.com")[1]["data"]["code"]
    attach(client, shop, shop.universal_id, email="bob@example.com", code="SUMMER")
    params = {"token": shop.token, "db_id": shop.db_id, "matching": "profile_id", "profile_id": bob}

    status, body = profiles(client, "delete", params)
    assert (status, body["data"]) == (200, {"profile_id": bob, "codes_held": 2})
    row = stored(session, bob)
    assert (row["email"], row["email_key"], row["phone"], row["phone_key"], row["fields"]) == (
        None,
        None,
        None,
        None,
        {},
    )
    assert row["deleted"] is not None
    # Nothing finds it any more, but its code is still attached.
    for verb in ("get", "delete"):
        assert profiles(client, verb, params)[1]["error_text"] == "Profile not found"
    assert (
        attach(client, shop, shop.personal_id, profile_id=bob)[1]["error_text"]
        == "Profile not found"
    )
    assert (
        attach(client, shop, shop.personal_id, email="bob@example.com")[1]["error_text"]
        == "Profile not found"
    )
    state = call(
        client, "get", {"token": shop.token, "loyalty_id": shop.personal_id, "code": code}
    )[1]
    assert state["data"]["is_attached"] is True
    # A merchant frees it on purpose: detach by the deleted profile's id.
    detached = call(
        client,
        "detach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "profile_id": bob,
            "code": code,
        },
    )
    assert detached[0] == 200 and detached[1]["data"]["is_attached"] is False
    # The email is free for a new profile.
    status, body = profiles(
        client, "import", {"token": shop.token, "db_id": shop.db_id, "email": "bob@example.com"}
    )
    assert body["data"]["created"] is True and body["data"]["profile_id"] != bob
