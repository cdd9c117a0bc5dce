"""`profiles/import_batch`: many customers in one call and one transaction, one outcome an
item, a bad item refused by its index while the others are written."""

from __future__ import annotations

import pytest

from .profile_calls import count_profiles, profiles, stored


@pytest.fixture
def app_config():
    return {"PROMO_PROFILES_BATCH_MAX": 5}


def batch(client, shop, items, fmt: str = "json", **params):
    body = {"token": shop.token, "db_id": shop.db_id, "data": items, **params}
    return profiles(client, "import_batch", body, fmt)


def test_a_batch_reports_each_item_and_writes_the_good_ones(client, session, shop):
    before = count_profiles(session)
    status, body = batch(
        client,
        shop,
        [
            {"email": "new@example.com", "card": "11"},
            {"email": "BOB@example.com", "phone": "+7 900 777-77-77"},
            {"email": "someone@example.com", "nope": "x"},
            {"email": " New@Example.com ", "phone": "+79001112233"},  # the profile of item 0
            {"email": "twin@example.com"},
        ],
    )
    assert status == 200
    data = body["data"]
    assert [item["error"] for item in data] == [0, 0, 400, 0, 409]
    assert [item["error_text"] for item in data] == [
        "Successful operation",
        "Successful operation",
        "Incorrect request",
        "Successful operation",
        "Several profiles match",
    ]
    assert data[2]["details"] == [
        {"field": "nope", "message": "Not a custom field of this database (it declares card)."}
    ]
    assert [item["created"] for item in data] == [True, False, False, False, False]
    assert data[1]["profile_id"] == shop.profiles["bob"]
    assert data[3]["profile_id"] == data[0]["profile_id"]
    assert (data[2]["profile_id"], data[4]["profile_id"]) == ("", "")
    assert (body["created"], body["updated"], body["failed"]) == (1, 2, 2)

    assert count_profiles(session) == before + 1
    made = stored(session, data[0]["profile_id"])
    assert (made["email"], made["phone_key"], made["fields"]) == (
        "New@Example.com",
        "+79001112233",
        {"card": "11"},
    )
    assert stored(session, shop.profiles["bob"])["phone_key"] == "+79007777777"


def test_items_of_one_batch_cannot_take_an_email_or_phone_from_each_other(client, session, shop):
    status, body = batch(
        client,
        shop,
        [
            {"email": "first@example.com", "phone": "+79005550000"},
            {"email": "second@example.com", "phone": "+7 900 555-00-00"},
            {"email": "bob@example.com", "email_": "x"},
        ],
    )
    assert status == 200
    assert [item["error"] for item in body["data"]] == [0, 409, 400]
    assert body["data"][1]["details"] == [
        {"field": "data.phone", "message": "Another profile of this database has this phone."}
    ]
    assert count_profiles(session, email_key="second@example.com") == 0


def test_a_batch_matched_by_a_custom_field_or_by_profile_id(client, session, shop):
    status, body = batch(
        client,
        shop,
        [{"card": "1001", "email": "alice@new.example"}, {"card": "5150"}, {"card": ""}],
        matching="custom",
        field_name="card",
    )
    assert status == 200
    assert [item["error"] for item in body["data"]] == [0, 0, 400]
    assert body["data"][0]["profile_id"] == shop.profiles["alice"]
    assert stored(session, body["data"][1]["profile_id"])["fields"] == {"card": "5150"}

    status, body = batch(
        client,
        shop,
        [{"profile_id": shop.profiles["bob"], "card": "42"}, {"profile_id": "f" * 24}],
        matching="profile_id",
    )
    assert status == 200
    assert [(item["error"], item["error_text"]) for item in body["data"]] == [
        (0, "Successful operation"),
        (404, "Profile not found"),
    ]
    assert stored(session, shop.profiles["bob"])["fields"] == {"card": "42"}


def test_a_field_name_without_matching_matches_by_it_as_one_import_does(client, session, shop):
    status, body = batch(
        client, shop, [{"card": "1001", "phone": "+7 900 123-45-67"}], field_name="card"
    )
    assert status == 200
    assert (body["data"][0]["profile_id"], body["data"][0]["created"]) == (
        shop.profiles["alice"],
        False,
    )
    assert stored(session, shop.profiles["alice"])["phone_key"] == "+79001234567"


def test_a_batch_in_xml_takes_one_data_element_a_profile(client, session, shop):
    status, body = batch(
        client, shop, [{"email": "x1@example.com"}, {"email": "x2@example.com"}], fmt="xml"
    )
    assert status == 200
    items = body["data"]  # one <data> element per item at the root
    assert [item["error"] for item in items] == ["0", "0"]
    assert count_profiles(session, email_key="x2@example.com") == 1
    status, body = batch(client, shop, {"email": "x3@example.com"}, fmt="xml")
    assert (status, body["created"]) == (200, "1")


@pytest.mark.parametrize(
    ("items", "params", "named"),
    [
        ([{"email": f"n{n}@example.com"} for n in range(6)], {}, "data"),  # over the limit (5)
        ([], {}, "data"),
        ([{"card": "1"}], {"matching": "custom"}, "field_name"),
        ([{"card": "1"}], {"matching": "custom", "field_name": "nope"}, "field_name"),
        (["a@example.com"], {}, "data.0"),
    ],
)
def test_a_refused_batch_writes_nothing(client, session, shop, items, params, named):
    before = count_profiles(session)
    status, body = batch(client, shop, items, **params)
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert any(name.startswith(named) for name in body["errors"]), body["errors"]
    assert count_profiles(session) == before


def test_a_limited_token_cannot_import_into_another_database(client, session, shop):
    body = {"token": shop.limited_token, "db_id": shop.db_id, "data": [{"email": "z@example.com"}]}
    assert profiles(client, "import_batch", body)[0] == 403
    assert count_profiles(session, email_key="z@example.com") == 0
