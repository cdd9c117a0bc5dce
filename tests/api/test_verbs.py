"""The verbs of the family beside attach: import, get, activate, update, detach, export_all."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from promo_app.api.envelope import to_json, to_xml
from promo_app.models import Attachment, PromoCode
from tests.helpers import as_xml, call, parse_envelope

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORMATS = ["json", "xml", "form"]
VERBS = ["import", "get", "activate", "update", "detach", "export_all"]
OK = "Successful operation"


def params_for(verb: str, shop, **extra):
    """Parameters that make `verb` succeed against the shop (given the state it is in)."""
    base = {"token": shop.token, "loyalty_id": shop.personal_id}
    more = {
        "import": {"codes": ["NEW-1"]},
        "get": {"code": "FREE-1"},
        "activate": {"code": "FREE-1"},
        "update": {"code": "FREE-1", "activated": True},
        "detach": {"code": "FREE-1", "db_id": shop.db_id, "email": "alice@example.com"},
        "export_all": {},
    }[verb]
    return {**base, **more, **extra}


def attach(client, shop, code=None, who="alice@example.com", loyalty_id=None):
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": loyalty_id or shop.personal_id,
        "email": who,
    }
    if code is not None:
        params["code"] = code
    status, body = call(client, "attach", params)
    assert status == 200, body
    return body["data"]["code"]


def code_row(session, loyalty_id, code) -> PromoCode:
    session.expire_all()
    return session.scalar(
        select(PromoCode).where(PromoCode.loyalty_id == loyalty_id, PromoCode.code == code)
    )


def count_codes(session, loyalty_id) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(PromoCode).where(PromoCode.loyalty_id == loyalty_id)
    )


# import -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_reports_each_code(client, shop, session, fmt):
    codes = ["NEW-1", "  NEW-2  ", "NEW-1", "FREE-1", "bad\tcode"]
    status, body = call(
        client, "import", {"token": shop.token, "loyalty_id": shop.personal_id, "codes": codes}, fmt
    )
    expected = [
        {"code": "NEW-1", "error": 0, "error_text": OK},
        {"code": "NEW-2", "error": 0, "error_text": OK},
        {"code": "NEW-1", "error": 409, "error_text": "Promo code already exists"},
        {"code": "FREE-1", "error": 409, "error_text": "Promo code already exists"},
        {"code": "bad\tcode", "error": 400, "error_text": "Invalid promo code"},
    ]
    assert status == 200
    assert body["error"] == 0 and body["error_text"] == OK
    if fmt == "xml":
        assert body["data"] == as_xml(expected)
        assert (body["inserted"], body["duplicated"], body["discarded_by_limit"]) == ("2", "2", "0")
    else:
        assert body["data"] == expected
        assert (body["inserted"], body["duplicated"], body["discarded_by_limit"]) == (2, 2, 0)
    assert count_codes(session, shop.personal_id) == 5
    assert code_row(session, shop.personal_id, "NEW-2").free


def test_import_again_is_safe_and_reports_duplicates(client, shop, session):
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "codes": ["N1", "N2"]}
    assert call(client, "import", params)[1]["inserted"] == 2
    status, body = call(client, "import", params)
    assert status == 200
    assert (body["inserted"], body["duplicated"]) == (0, 2)
    assert [item["error"] for item in body["data"]] == [409, 409]
    assert count_codes(session, shop.personal_id) == 5


@pytest.mark.parametrize("fmt", ["xml", "form"])
def test_import_accepts_a_single_code_as_a_list_of_one(client, shop, session, fmt):
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "codes": "ONLY"}
    status, body = call(client, "import", params, fmt)
    assert status == 200, body
    expected = [{"code": "ONLY", "error": 0, "error_text": OK}]
    assert body["data"] == (as_xml(expected) if fmt == "xml" else expected)
    assert code_row(session, shop.personal_id, "ONLY") is not None


def test_import_into_a_universal_program_makes_universal_codes(client, shop, session):
    params = {"token": shop.token, "loyalty_id": shop.universal_id, "codes": ["ALL"]}
    assert call(client, "import", params)[0] == 200
    attach(client, shop, "ALL", "alice@example.com", shop.universal_id)
    attach(client, shop, "ALL", "bob@example.com", shop.universal_id)
    row = code_row(session, shop.universal_id, "ALL")
    assert row.universal and not row.free


@pytest.mark.parametrize("app_config", [{"PROMO_IMPORT_MAX_CODES": 3}])
def test_import_counts_codes_past_the_limit(client, shop, session, app_config):
    codes = ["A", "B", "A", "C", "D"]
    params = {"token": shop.token, "loyalty_id": shop.empty_id, "codes": codes}
    status, body = call(client, "import", params)
    assert status == 200
    assert [item["code"] for item in body["data"]] == ["A", "B", "A"]
    assert (body["inserted"], body["duplicated"], body["discarded_by_limit"]) == (2, 1, 2)
    stored = session.scalars(
        select(PromoCode.code).where(PromoCode.loyalty_id == shop.empty_id)
    ).all()
    assert sorted(stored) == ["A", "B"]


def test_import_takes_ten_thousand_codes_by_default(client, shop, session):
    codes = [f"BULK-{n:05d}" for n in range(10_001)]
    params = {"token": shop.token, "loyalty_id": shop.empty_id, "codes": codes}
    status, body = call(client, "import", params)
    assert status == 200
    assert (body["inserted"], body["duplicated"], body["discarded_by_limit"]) == (10_000, 0, 1)
    assert len(body["data"]) == 10_000
    assert count_codes(session, shop.empty_id) == 10_000


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "codes"),
        ({"codes": []}, "codes"),
        ({"codes": 5}, "codes"),
        ({"codes": ["A", 7]}, "codes.1"),
        ({"codes": ["A"], "db_id": 1}, "db_id"),
    ],
)
def test_import_refuses_bad_parameters(client, shop, session, params, field):
    status, body = call(
        client, "import", {"token": shop.token, "loyalty_id": shop.personal_id, **params}
    )
    assert (status, body["error"], body["error_text"]) == (400, 400, "Incorrect request")
    assert field in body["errors"]
    assert count_codes(session, shop.personal_id) == 3


def test_a_token_limited_to_other_databases_cannot_use_this_shops_programs(client, shop, session):
    # Issue 14: a program belongs to a database; a token of another shop reaches none of it
    # (it used to be free to import into and read any program).
    params = {"token": shop.limited_token, "loyalty_id": shop.personal_id, "codes": ["LIM"]}
    status, body = call(client, "import", params)
    assert (status, body["error_text"]) == (403, "Access denied")
    assert count_codes(session, shop.personal_id) == 3
    params = {"token": shop.limited_token, "loyalty_id": shop.personal_id, "code": "FREE-1"}
    status, body = call(client, "get", params)
    assert (status, body["error_text"]) == (403, "Access denied")


# get --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_describes_a_free_code(client, shop, fmt):
    status, body = call(client, "get", params_for("get", shop), fmt)
    assert status == 200
    data = body["data"]
    expected = {
        "code": "FREE-1",
        "loyalty_id": shop.personal_id,
        "created": data["created"],
        "is_attached": False,
        "attached": "",
        "is_activated": False,
        "activated": "",
        "is_expired": False,
        "expired": "",
        "expire_date": "",
    }
    assert RFC3339.match(data["created"])
    assert data == (as_xml(expected) if fmt == "xml" else expected)


def test_get_describes_an_attached_activated_expired_code(client, shop):
    attach(client, shop, "FREE-2")
    assert call(client, "activate", params_for("activate", shop, code="FREE-2"))[0] == 200
    update = params_for("update", shop, code="FREE-2", expire_date="2020-02-03T04:05:06+03:00")
    del update["activated"]
    assert call(client, "update", update)[0] == 200
    status, body = call(client, "get", params_for("get", shop, code="FREE-2"))
    data = body["data"]
    assert status == 200
    assert data["is_attached"] and RFC3339.match(data["attached"])
    assert data["is_activated"] and RFC3339.match(data["activated"])
    assert data["is_expired"] is True
    assert data["expired"] == data["expire_date"] == "2020-02-03T01:05:06Z"
    # Who holds it, as the platform's get names it.
    assert (data["database_id"], data["profile_id"]) == (shop.db_id, shop.profiles["alice"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_of_an_attached_code_names_its_database_and_profile(client, shop, fmt):
    attach(client, shop, "FREE-2", "bob@example.com")
    status, body = call(client, "get", params_for("get", shop, code="FREE-2"), fmt)
    assert status == 200
    expected = {"database_id": shop.db_id, "profile_id": shop.profiles["bob"]}
    assert {key: body["data"][key] for key in expected} == (
        as_xml(expected) if fmt == "xml" else expected
    )


def test_get_of_a_universal_code_gives_its_first_attachment(client, shop, session):
    attach(client, shop, "SUMMER", "alice@example.com", shop.universal_id)
    first = session.scalar(select(func.min(Attachment.attached)))
    attach(client, shop, "SUMMER", "bob@example.com", shop.universal_id)
    status, body = call(
        client, "get", params_for("get", shop, loyalty_id=shop.universal_id, code="SUMMER")
    )
    assert status == 200
    assert body["data"]["is_attached"] is True
    assert body["data"]["attached"] == first.replace(microsecond=0).isoformat() + "Z"
    # The first holder, the same attachment that `attached` reads.
    assert body["data"]["profile_id"] == shop.profiles["alice"]
    assert body["data"]["database_id"] == shop.db_id


@pytest.mark.parametrize("verb", ["get", "activate", "update", "detach"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_verbs_on_an_unknown_code_say_not_found(client, shop, verb, fmt):
    status, body = call(client, verb, params_for(verb, shop, code="NOPE"), fmt)
    assert (status, body["error"], body["error_text"]) == (404, 404, "Promo code not found")
    assert body["data"] is None


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_verbs_on_an_unknown_program_say_not_found(client, shop, verb, fmt):
    status, body = call(client, verb, params_for(verb, shop, loyalty_id=999), fmt)
    assert (status, body["error"], body["error_text"]) == (404, 404, "Loyalty program not found")


@pytest.mark.parametrize("verb", ["get", "activate", "update", "detach"])
@pytest.mark.parametrize("code", ["", "   ", "x" * 256, "a\x01b"])
def test_verbs_refuse_an_invalid_code(client, shop, verb, code):
    status, body = call(client, verb, params_for(verb, shop, code=code))
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert "code" in body["errors"]


# activate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_activate_refuses_a_code_that_is_not_attached(client, shop, session, fmt):
    status, body = call(client, "activate", params_for("activate", shop), fmt)
    assert (status, body["error"], body["error_text"]) == (409, 409, "Promo code is not attached")
    assert code_row(session, shop.personal_id, "FREE-1").activated is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_activate_marks_an_attached_code_used_once(client, shop, session, fmt):
    attach(client, shop, "FREE-1")
    status, body = call(client, "activate", params_for("activate", shop), fmt)
    assert status == 200
    activated = code_row(session, shop.personal_id, "FREE-1").activated
    assert activated is not None
    expected_time = activated.replace(microsecond=0).isoformat() + "Z"
    assert body["data"]["is_activated"] in (True, "true")
    assert body["data"]["activated"] == expected_time
    status, again = call(client, "activate", params_for("activate", shop), fmt)
    assert status == 200 and again["data"]["activated"] == expected_time


def test_activate_refuses_an_expired_code(client, shop, session):
    attach(client, shop, "FREE-1")
    update = params_for("update", shop, expire_date="2000-01-01")
    del update["activated"]
    assert call(client, "update", update)[0] == 200
    status, body = call(client, "activate", params_for("activate", shop))
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    assert code_row(session, shop.personal_id, "FREE-1").activated is None


# update -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2030-05-06", datetime(2030, 5, 6, 23, 59, 59)),
        ("2030-05-06T10:00:00Z", datetime(2030, 5, 6, 10, 0, 0)),
        ("2030-05-06T10:00:00+02:00", datetime(2030, 5, 6, 8, 0, 0)),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_update_sets_the_expiry(client, shop, session, fmt, given, stored):
    params = params_for("update", shop, expire_date=given)
    del params["activated"]
    status, body = call(client, "update", params, fmt)
    assert status == 200, body
    assert code_row(session, shop.personal_id, "FREE-1").expire_date == stored
    assert body["data"]["expire_date"] == stored.isoformat() + "Z"


@pytest.mark.parametrize(
    ("fmt", "empty"), [("json", ""), ("json", None), ("xml", None), ("form", "")]
)
def test_update_clears_the_expiry(client, shop, session, fmt, empty):
    params = params_for("update", shop, expire_date="2030-01-01")
    del params["activated"]
    assert call(client, "update", params)[0] == 200
    status, body = call(client, "update", {**params, "expire_date": empty}, fmt)
    assert status == 200, body
    assert code_row(session, shop.personal_id, "FREE-1").expire_date is None
    assert body["data"]["expire_date"] in ("", None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_sets_and_clears_activation(client, shop, session, fmt):
    on = params_for("update", shop, activated="true" if fmt != "json" else True)
    status, body = call(client, "update", on, fmt)
    assert status == 200, body
    assert code_row(session, shop.personal_id, "FREE-1").activated is not None
    off = {**on, "activated": "false" if fmt != "json" else False}
    status, body = call(client, "update", off, fmt)
    assert status == 200
    assert code_row(session, shop.personal_id, "FREE-1").activated is None
    assert body["data"]["is_activated"] in (False, "false")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({}, {"activated", "expire_date"}),
        ({"activated": "maybe"}, {"activated"}),
        ({"activated": None}, {"activated"}),
        ({"expire_date": "soon"}, {"expire_date"}),
        ({"expire_date": 5}, {"expire_date"}),
        ({"expire_date": "2030-02-30"}, {"expire_date"}),
    ],
)
def test_update_refuses_bad_changes(client, shop, session, change, fields):
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1", **change}
    status, body = call(client, "update", params)
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert set(body["errors"]) == fields
    row = code_row(session, shop.personal_id, "FREE-1")
    assert row.activated is None and row.expire_date is None


# detach -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_detached_personal_code_is_drawn_from_the_pool_again(client, shop, session, fmt):
    drawn = attach(client, shop)  # the oldest free code
    assert drawn == "FREE-1"
    assert call(client, "activate", params_for("activate", shop))[0] == 200
    status, body = call(client, "detach", params_for("detach", shop, code=drawn), fmt)
    assert status == 200, body
    assert body["data"]["is_attached"] in (False, "false")
    # Attached to nobody: no holder to name.
    assert "database_id" not in body["data"] and "profile_id" not in body["data"]
    row = code_row(session, shop.personal_id, drawn)
    assert row.free and row.activated is None
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    # Bob asks for a code: the pool hands out the oldest free one, the one just detached.
    assert attach(client, shop, who="bob@example.com") == "FREE-1"


def test_detach_keeps_other_profiles_attachments_of_a_universal_code(client, shop, session):
    attach(client, shop, "SUMMER", "alice@example.com", shop.universal_id)
    attach(client, shop, "SUMMER", "bob@example.com", shop.universal_id)
    params = params_for("detach", shop, loyalty_id=shop.universal_id, code="SUMMER")
    status, body = call(client, "detach", params)
    assert status == 200
    assert body["data"]["is_attached"] is True
    assert body["data"]["profile_id"] == shop.profiles["bob"]  # the one still holding it
    status, body = call(client, "detach", params)
    assert (status, body["error_text"]) == (409, "Promo code is not attached")
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert not code_row(session, shop.universal_id, "SUMMER").free


@pytest.mark.parametrize("fmt", FORMATS)
def test_detach_from_a_profile_that_does_not_hold_it_is_refused(client, shop, session, fmt):
    attach(client, shop, "FREE-1", "alice@example.com")
    params = params_for("detach", shop, email="bob@example.com")
    status, body = call(client, "detach", params, fmt)
    assert (status, body["error"], body["error_text"]) == (409, 409, "Promo code is not attached")
    assert not code_row(session, shop.personal_id, "FREE-1").free


@pytest.mark.parametrize(
    ("change", "status", "error_text"),
    [
        ({"email": "nobody@example.com"}, 404, "Profile not found"),
        ({"email": "twin@example.com"}, 409, "Several profiles match"),
        ({"db_id": 999}, 404, "Database not found"),
        ({"token": "limited"}, 403, "Access denied"),
        ({"token": "wrong"}, 401, "Invalid API token"),
        ({"token": None}, 401, "API token required"),
        ({"code": None}, 400, "Incorrect request"),
        ({"db_id": None}, 400, "Incorrect request"),
        ({"email": None}, 400, "Incorrect request"),
        ({"matching": "phone"}, 400, "Incorrect request"),
        ({"email": None, "field_name": "nope", "field_value": "1"}, 400, "Incorrect request"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_detach_errors(client, shop, session, change, status, error_text, fmt):
    attach(client, shop, "FREE-1", "alice@example.com")
    params = params_for("detach", shop)
    if change.get("token") == "limited":
        change = {"token": shop.limited_token}
    params = {key: value for key, value in {**params, **change}.items() if value is not None}
    got_status, body = call(client, "detach", params, fmt)
    assert (got_status, body["error"], body["error_text"]) == (status, status, error_text)
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_detach_by_custom_field_and_phone(client, shop, session):
    attach(client, shop, "FREE-1", "alice@example.com")
    params = params_for("detach", shop)
    del params["email"]
    by_phone = {**params, "phone": "+79000000001", "matching": "phone"}
    assert call(client, "detach", by_phone)[0] == 200
    attach(client, shop, "FREE-1", "alice@example.com")
    by_card = {**params, "field_name": "card", "field_value": "1001"}
    assert call(client, "detach", by_card, "xml")[0] == 200
    assert code_row(session, shop.personal_id, "FREE-1").free


# every verb ---------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("token", "error_text"), [(None, "API token required"), ("wrong", "Invalid API token")]
)
def test_every_verb_needs_a_valid_token(client, shop, verb, fmt, token, error_text):
    params = params_for(verb, shop)
    params.pop("token")
    if token:
        params["token"] = token
    status, body = call(client, verb, params, fmt)
    assert (status, body["error"], body["error_text"]) == (401, 401, error_text)


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_takes_the_token_from_the_header_or_query(client, shop, verb):
    params = params_for(verb, shop)
    params.pop("token")
    headers = {"Authorization": f"Bearer {shop.token}"}
    attach(client, shop, "FREE-1")
    assert call(client, verb, params, headers=headers)[0] == 200
    attach(client, shop, "FREE-1")
    response = client.post(
        f"/api/v1.1/promocodes/{verb}?token={shop.token}&format=xml",
        json=params_for(verb, shop, codes=["Q"]) if verb == "import" else params,
    )
    assert (response.status_code, response.mimetype) == (200, "application/xml")


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_verb_refuses_unknown_parameters(client, shop, verb, fmt):
    status, body = call(client, verb, params_for(verb, shop, colour="red"), fmt)
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert "colour" in body["errors"]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_refuses_a_missing_program(client, shop, verb):
    params = params_for(verb, shop)
    del params["loyalty_id"]
    status, body = call(client, verb, params, "xml")
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert "loyalty_id" in body["errors"]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_refuses_other_content_types(client, shop, verb):
    response = client.post(
        f"/api/v1.1/promocodes/{verb}", data="token=x", content_type="text/plain"
    )
    body = parse_envelope(response)
    assert (response.status_code, body["error_text"]) == (415, "Unsupported content type")


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_refuses_a_body_over_the_limit(client, shop, app, verb):
    app.config["PROMO_MAX_BODY_BYTES"] = 100
    params = params_for(verb, shop, padding="x" * 200)
    status, body = call(client, verb, params, "xml")
    assert (status, body["error_text"]) == (413, "Request too large")


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_answers_only_post(client, verb):
    response = client.get(f"/api/v1.1/promocodes/{verb}")
    body = parse_envelope(response)
    assert (response.status_code, body["error"]) == (405, 405)


# export_all -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_export_all_lists_every_code_exactly_as_the_envelope_would(client, shop, fmt):
    attach(client, shop, "FREE-1")
    attach(client, shop, "FREE-2", "bob@example.com")
    status, activated = call(client, "activate", params_for("activate", shop))
    assert status == 200
    times = {
        code: call(client, "get", params_for("get", shop, code=code))[1]["data"]["attached"]
        for code in ("FREE-1", "FREE-2")
    }
    response = client.post(
        "/api/v1.1/promocodes/export_all", json=params_for("export_all", shop, format=fmt)
    )
    assert response.status_code == 200
    # Times are RFC 3339, present only when set: a free code is {code} alone (SPEC.md).
    expected_items = [
        {
            "code": "FREE-1",
            "attached": times["FREE-1"],
            "activated": activated["data"]["activated"],
        },
        {"code": "FREE-2", "attached": times["FREE-2"]},
        {"code": "FREE-3"},
    ]
    assert all(RFC3339.match(time) for time in times.values())
    envelope = {"data": expected_items, "error": 0, "error_text": OK}
    expected = to_xml(envelope) if fmt == "xml" else to_json(envelope)
    assert response.get_data(as_text=True) == expected
    assert parse_envelope(response)["data"] == (
        as_xml(envelope["data"]) if fmt == "xml" else envelope["data"]
    )
    if fmt == "xml":
        # One <data> element per code at the root, as the platform writes lists.
        assert response.get_data(as_text=True).count("<data>") == 3
        assert "<item>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_export_all_of_an_empty_program(client, shop, fmt):
    response = client.post(
        "/api/v1.1/promocodes/export_all",
        json=params_for("export_all", shop, loyalty_id=shop.empty_id, format=fmt),
    )
    envelope = {"data": [], "error": 0, "error_text": OK}
    expected = to_xml(envelope) if fmt == "xml" else to_json(envelope)
    assert (response.status_code, response.get_data(as_text=True)) == (200, expected)


def test_export_all_of_a_universal_code_gives_its_first_attachment_time(client, shop, session):
    attach(client, shop, "SUMMER", "bob@example.com", shop.universal_id)
    attach(client, shop, "SUMMER", "alice@example.com", shop.universal_id)
    first = session.scalar(select(func.min(Attachment.attached)))
    status, body = call(
        client, "export_all", params_for("export_all", shop, loyalty_id=shop.universal_id)
    )
    assert (status, body["data"]) == (
        200,
        [{"code": "SUMMER", "attached": first.replace(microsecond=0).isoformat() + "Z"}],
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_export_all_errors_are_an_ordinary_envelope(client, shop, fmt):
    response = client.post(
        "/api/v1.1/promocodes/export_all",
        json={"token": "wrong", "loyalty_id": shop.personal_id, "format": fmt},
    )
    body = parse_envelope(response)
    assert (response.status_code, body["error_text"], body["data"]) == (
        401,
        "Invalid API token",
        None,
    )
