"""POST /api/v1.1/promocodes/attach: every case and error row of SPEC.md, in JSON and XML."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from promo_app.models import Attachment, Profile, PromoCode
from promo_app.times import utcnow
from tests.helpers import call

FORMATS = ["json", "xml"]


def attach(client, shop, fmt="json", **params):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id, **params}
    return call(client, "attach", body, fmt)


def attachments(session, code: str) -> list[str]:
    """The profile ids a code is attached to, as the database has them."""
    rows = session.scalars(
        select(Profile.profile_id)
        .join(Attachment, Attachment.profile_pk == Profile.id)
        .join(PromoCode, PromoCode.id == Attachment.code_id)
        .where(PromoCode.code == code)
        .order_by(Profile.profile_id)
    )
    return list(rows)


def attachment_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Attachment))


@pytest.mark.parametrize("fmt", FORMATS)
def test_attach_without_code_takes_oldest_free_code(client, shop, session, fmt):
    status, body = attach(client, shop, fmt, email="alice@example.com")
    assert status == 200
    assert body["error"] == 0
    assert body["error_text"] == "Successful operation"
    data = body["data"]
    assert data["code"] == "FREE-1"
    assert str(data["loyalty_id"]) == str(shop.personal_id)
    assert data["profile_id"] == shop.profiles["alice"]
    assert data["attached"].endswith("Z") and "T" in data["attached"]
    assert attachments(session, "FREE-1") == [shop.profiles["alice"]]

    status, body = attach(client, shop, fmt, email="bob@example.com")
    assert body["data"]["code"] == "FREE-2"


def test_a_draw_that_fails_midway_leaves_its_code_in_the_pool(client, shop, session, monkeypatch):
    """The draw's two writes are one transaction: a failure after the code was taken
    (here the attachment's insert) gives the code back, and the client a 500. (The full
    path's: PostgreSQL's one-statement draw is the next test's.)"""
    import promo_app.attach
    import promo_app.attach_pg

    monkeypatch.setattr(promo_app.attach_pg, "try_attach", lambda *args, **kwargs: None)

    class FailingInsert:
        def rows(self, connection, params):
            raise OperationalError(
                "INSERT INTO promo_attachment", params, Exception("disk I/O error")
            )

    attach_taken = promo_app.attach._ATTACH_TAKEN
    monkeypatch.setattr(promo_app.attach, "_ATTACH_TAKEN", FailingInsert())
    status, body = attach(client, shop, email="alice@example.com")
    assert (status, body["error"], body["data"]) == (500, 500, None)
    assert "disk I/O" not in str(body)
    assert session.scalar(select(PromoCode.free).where(PromoCode.code == "FREE-1")) is True
    assert attachment_count(session) == 0

    monkeypatch.setattr(promo_app.attach, "_ATTACH_TAKEN", attach_taken)
    status, body = attach(client, shop, email="alice@example.com")
    assert (status, body["data"]["code"]) == (200, "FREE-1")


FAILING_INSERT = """
CREATE FUNCTION promo_test_fail() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$;
CREATE TRIGGER promo_test_fail BEFORE INSERT ON promo_attachment
FOR EACH ROW EXECUTE FUNCTION promo_test_fail();
"""


@pytest.mark.postgresql_only
def test_a_one_statement_draw_that_fails_midway_leaves_its_code_in_the_pool(
    client, shop, session, engine
):
    """On PostgreSQL a draw is one statement (attach_pg.py): the attachment's insert
    failing (here a trigger's error) undoes the take too."""
    with engine.begin() as connection:
        connection.exec_driver_sql(FAILING_INSERT)
    try:
        status, body = attach(client, shop, email="alice@example.com")
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER promo_test_fail ON promo_attachment")
            connection.exec_driver_sql("DROP FUNCTION promo_test_fail()")
    assert (status, body["error"], body["data"]) == (500, 500, None)
    assert "disk I/O" not in str(body)
    assert session.scalar(select(PromoCode.free).where(PromoCode.code == "FREE-1")) is True
    assert attachment_count(session) == 0
    status, body = attach(client, shop, email="alice@example.com")
    assert (status, body["data"]["code"]) == (200, "FREE-1")


def test_attach_from_pool_skips_expired_codes(client, shop, session):
    first = session.scalar(select(PromoCode).where(PromoCode.code == "FREE-1"))
    first.expire_date = utcnow() - timedelta(minutes=1)
    session.commit()
    status, body = attach(client, shop, email="bob@example.com")
    assert (status, body["data"]["code"]) == (200, "FREE-2")


@pytest.mark.parametrize("fmt", FORMATS)
def test_attach_from_empty_pool_is_no_promo_codes_available(client, shop, session, fmt):
    for name in ("alice", "bob", "twin1"):
        assert attach(client, shop, profile_id=shop.profiles[name])[0] == 200
    before = attachment_count(session)
    status, body = attach(client, shop, fmt, profile_id=shop.profiles["twin2"])
    assert (status, body["error"], body["error_text"]) == (409, 409, "No promo codes available")
    assert body["data"] is None
    assert attachment_count(session) == before


def test_attach_from_pool_ignores_universal_codes(client, shop):
    params = {"loyalty_id": shop.universal_id, "email": "bob@example.com"}
    status, body = attach(client, shop, **params)
    assert (status, body["error_text"]) == (409, "No promo codes available")


@pytest.mark.parametrize("fmt", FORMATS)
def test_attach_free_personal_code_by_name(client, shop, session, fmt):
    status, body = attach(client, shop, fmt, code="FREE-3", phone="+79000000002")
    assert status == 200
    assert body["data"]["code"] == "FREE-3"
    assert attachments(session, "FREE-3") == [shop.profiles["bob"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_attach_again_to_same_profile_is_a_safe_retry(client, shop, session, fmt):
    _, first = attach(client, shop, code="FREE-2", email="bob@example.com")
    status, again = attach(client, shop, fmt, code="FREE-2", email="bob@example.com")
    assert (status, again["error"]) == (200, 0)
    assert again["data"]["attached"] == first["data"]["attached"]
    assert attachments(session, "FREE-2") == [shop.profiles["bob"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_personal_code_attached_to_another_profile_is_refused(client, shop, session, fmt):
    attach(client, shop, code="FREE-2", email="bob@example.com")
    status, body = attach(client, shop, fmt, code="FREE-2", email="alice@example.com")
    assert (status, body["error"], body["error_text"]) == (
        409,
        409,
        "Promo code is already attached",
    )
    assert attachments(session, "FREE-2") == [shop.profiles["bob"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_universal_code_goes_to_many_profiles_each_once(client, shop, session, fmt):
    params = {"loyalty_id": shop.universal_id, "code": "SUMMER"}
    for name in ("alice", "bob"):
        status, body = attach(client, shop, fmt, profile_id=shop.profiles[name], **params)
        assert (status, body["data"]["code"]) == (200, "SUMMER")
    status, body = attach(client, shop, fmt, profile_id=shop.profiles["bob"], **params)
    assert status == 200
    assert attachments(session, "SUMMER") == sorted([shop.profiles["alice"], shop.profiles["bob"]])


@pytest.mark.parametrize("fmt", FORMATS)
def test_expired_code_is_refused(client, shop, session, fmt):
    code = session.scalar(select(PromoCode).where(PromoCode.code == "FREE-3"))
    code.expire_date = utcnow() - timedelta(seconds=1)
    session.commit()
    status, body = attach(client, shop, fmt, code="FREE-3", email="bob@example.com")
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    assert attachments(session, "FREE-3") == []


def test_code_expiring_later_is_attached(client, shop, session):
    code = session.scalar(select(PromoCode).where(PromoCode.code == "FREE-3"))
    code.expire_date = utcnow() + timedelta(days=1)
    session.commit()
    status, _ = attach(client, shop, code="FREE-3", email="bob@example.com")
    assert status == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("program", "universal"), [("personal_id", False), ("universal_id", True)])
def test_unknown_code_is_created_in_the_program_and_attached(
    client, shop, session, fmt, program, universal
):
    loyalty_id = getattr(shop, program)
    status, body = attach(
        client, shop, fmt, loyalty_id=loyalty_id, code="  NEW-Code-1 ", email="bob@example.com"
    )
    assert (status, body["data"]["code"]) == (200, "NEW-Code-1")
    created = session.scalar(select(PromoCode).where(PromoCode.code == "NEW-Code-1"))
    assert (created.loyalty_id, created.universal, created.free) == (loyalty_id, universal, False)
    assert attachments(session, "NEW-Code-1") == [shop.profiles["bob"]]


def test_codes_compare_case_sensitively(client, shop, session):
    status, body = attach(client, shop, code="free-1", email="bob@example.com")
    assert (status, body["data"]["code"]) == (200, "free-1")
    assert attachments(session, "FREE-1") == []


@pytest.mark.parametrize(
    ("identifiers", "profile"),
    [
        ({"email": "  ALICE@example.COM "}, "alice"),
        ({"phone": "+79000000001"}, "alice"),
        ({"phone": "+7 900 000.00.01"}, "alice"),
        ({"phone": "+7 (900) 000-00-02"}, "bob"),
        ({"matching": "custom", "field_name": "card", "field_value": "1001"}, "alice"),
        ({"field_name": "card", "field_value": "1001"}, "alice"),
        ({"matching": "email", "email": "bob@example.com", "phone": "+79000000001"}, "bob"),
        ({"matching": "phone", "email": "bob@example.com", "phone": "+79000000001"}, "alice"),
        # Without matching, the first identifier in the order profile_id, email, phone, custom.
        ({"email": "bob@example.com", "phone": "+79000000001"}, "bob"),
        ({"phone": "+79000000002", "field_name": "card", "field_value": "1001"}, "bob"),
    ],
)
def test_profile_matching(client, shop, identifiers, profile):
    status, body = attach(client, shop, **identifiers)
    assert status == 200, body
    assert body["data"]["profile_id"] == shop.profiles[profile]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_profile_id_that_matching_ignores_is_not_checked(client, shop, fmt):
    # The README: with `matching`, the other identifiers are ignored; a client that sends
    # its own customer id as profile_id must not be refused (issue 14).
    status, body = attach(
        client, shop, fmt, matching="email", email="bob@example.com", profile_id="crm-42"
    )
    assert (status, body["data"]["profile_id"]) == (200, shop.profiles["bob"])
    status, body = attach(client, shop, fmt, matching="profile_id", profile_id="crm-42")
    assert (status, list(body["errors"])) == (400, ["profile_id"])


def test_matching_by_profile_id(client, shop):
    status, body = attach(client, shop, matching="profile_id", profile_id=shop.profiles["bob"])
    assert (status, body["data"]["profile_id"]) == (200, shop.profiles["bob"])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "identifiers",
    [
        {"email": "nobody@example.com"},
        {"phone": "+10000000000"},
        {"profile_id": "0" * 24},
        {"field_name": "card", "field_value": "9999"},
        {"email": "stranger@example.com"},  # a profile of another database
    ],
)
def test_no_matching_profile_is_profile_not_found_and_creates_nothing(
    client, shop, session, fmt, identifiers
):
    profiles = session.scalar(select(func.count()).select_from(Profile))
    status, body = attach(client, shop, fmt, code="BRAND-NEW", **identifiers)
    assert (status, body["error"], body["error_text"]) == (404, 404, "Profile not found")
    assert session.scalar(select(func.count()).select_from(Profile)) == profiles
    assert session.scalar(select(PromoCode).where(PromoCode.code == "BRAND-NEW")) is None


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "identifiers",
    [{"email": "twin@example.com"}, {"field_name": "card", "field_value": "7"}],
)
def test_several_matching_profiles_attach_nothing(client, shop, session, fmt, identifiers):
    status, body = attach(client, shop, fmt, code="FREE-1", **identifiers)
    assert (status, body["error_text"]) == (409, "Several profiles match")
    assert attachment_count(session) == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"db_id": None}, ["db_id"]),
        ({"loyalty_id": None}, ["loyalty_id"]),
        ({"db_id": "one"}, ["db_id"]),
        ({"db_id": "1.5"}, ["db_id"]),
        ({"db_id": "0"}, ["db_id"]),
        ({"loyalty_id": str(2**40)}, ["loyalty_id"]),
        ({"email": None}, ["matching"]),
        ({"email": None, "matching": "email"}, ["email"]),
        ({"email": None, "matching": "custom", "field_name": "card"}, ["field_value"]),
        ({"email": None, "field_value": "1001"}, ["field_name"]),
        ({"matching": "name"}, ["matching"]),
        ({"profile_id": "ABCDEF"}, ["profile_id"]),
        ({"code": "x" * 256}, ["code"]),
        ({"code": "TAB\tCODE"}, ["code"]),
        ({"format": "yaml"}, ["format"]),
        ({"colour": "red", "size": "9"}, ["colour", "size"]),
        (
            {"email": None, "matching": "custom", "field_name": "shoe_size", "field_value": "9"},
            ["field_name"],
        ),
    ],
)
def test_bad_parameters_are_incorrect_request_naming_each_field(
    client, shop, session, fmt, params, fields
):
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.personal_id,
        "email": "bob@example.com",
        **params,
    }
    body = {name: value for name, value in body.items() if value is not None}
    status, answer = call(client, "attach", body, fmt)
    assert (status, answer["error"], answer["error_text"]) == (400, 400, "Incorrect request")
    assert sorted(answer["errors"]) == sorted(fields)
    assert all(answer["errors"][name] for name in fields)
    assert attachment_count(session) == 0


def test_json_types_are_checked(client, shop):
    status, body = attach(client, shop, email="bob@example.com", db_id=True, code=["A"])
    assert status == 400
    assert sorted(body["errors"]) == ["code", "db_id"]


def test_missing_token_is_api_token_required(client, shop):
    status, body = call(client, "attach", {"db_id": shop.db_id, "loyalty_id": shop.personal_id})
    assert (status, body["error"], body["error_text"]) == (401, 401, "API token required")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_or_revoked_token_is_invalid(client, shop, runner, fmt):
    status, body = attach(client, shop, fmt, token="not-a-token", email="bob@example.com")
    assert (status, body["error_text"]) == (401, "Invalid API token")
    assert runner.invoke(args=["promo", "revoke-token", "shop"]).exit_code == 0
    status, body = attach(client, shop, fmt, email="bob@example.com")
    assert (status, body["error_text"]) == (401, "Invalid API token")


def test_token_limited_to_other_database_is_access_denied(client, shop, session):
    status, body = attach(client, shop, token=shop.limited_token, email="bob@example.com")
    assert (status, body["error"], body["error_text"]) == (403, 403, "Access denied")
    status, body = attach(
        client,
        shop,
        token=shop.limited_token,
        db_id=shop.other_db_id,
        email="stranger@example.com",
    )
    # Its own database, but the program serves the shop's database (issue 14: it used to
    # hand the shop's codes to the other database's customers).
    assert (status, body["error_text"]) == (403, "Access denied")
    assert attachments(session, "FREE-1") == []


@pytest.mark.parametrize(
    ("params", "error_text"),
    [({"db_id": 999}, "Database not found"), ({"loyalty_id": 999}, "Loyalty program not found")],
)
def test_unknown_database_or_program_is_not_found(client, shop, params, error_text):
    status, body = attach(client, shop, email="bob@example.com", **params)
    assert (status, body["error"], body["error_text"]) == (404, 404, error_text)


def test_data_null_setting_gives_the_original_answer(app, client, shop, session):
    app.config["PROMO_ATTACH_NULL_DATA"] = True
    status, body = attach(client, shop, email="bob@example.com")
    assert (status, body) == (200, {"data": None, "error": 0, "error_text": "Successful operation"})
    assert attachments(session, "FREE-1") == [shop.profiles["bob"]]


def test_xml_answer_carries_the_same_data_as_json(client, shop):
    _, as_json = attach(client, shop, code="SAME", email="bob@example.com")
    _, as_xml = attach(client, shop, "xml", code="SAME", email="bob@example.com")
    assert as_xml["data"] == {**as_json["data"], "loyalty_id": str(shop.personal_id)}


def test_form_body_attaches(client, shop):
    status, body = attach(client, shop, "form", email="bob@example.com")
    assert (status, body["data"]["code"]) == (200, "FREE-1")


@pytest.mark.parametrize("fmt", ["json", "form"])
def test_blank_code_is_incorrect_request(client, shop, fmt):
    status, body = attach(client, shop, fmt, code="   ", email="bob@example.com")
    assert (status, list(body["errors"])) == (400, ["code"])


@pytest.mark.parametrize("empty", [{"code": None}, {}])
def test_empty_xml_element_or_json_null_means_not_given(client, shop, empty):
    """An empty XML element is what XML has for null, so `<code/>` draws from the pool."""
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    status, answer = call(client, "attach", {**body, "email": "bob@example.com", **empty}, "xml")
    assert (status, answer["data"]["code"]) == (200, "FREE-1")
    status, answer = call(client, "attach", {**body, "email": "bob@example.com", "code": None})
    assert (status, answer["data"]["code"]) == (200, "FREE-2")
