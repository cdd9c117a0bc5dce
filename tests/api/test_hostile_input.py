"""Input a hostile or careless client sends: never a 500, never Python's own words, and
nothing changed. Each class is decided where the value enters (params.py, schemas.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from promo_app.models import Attachment, PromoCode
from tests.helpers import parse_envelope

VERBS = ("attach", "import", "get", "activate", "update", "detach", "export_all")
PROFILE_FIELDS = ("email", "phone", "field_name", "field_value")
# What a Python exception says, which an answer must never quote.
PYTHON_WORDS = ("codec", "recursion", "4300", "Exceeds the limit", "Traceback", "Expecting")


def path(verb: str) -> str:
    return f"/api/v1.1/promocodes/{verb}"


def base(shop, verb: str) -> dict:
    """Parameters that make `verb` succeed (or fail only for the field a test breaks)."""
    params = {"token": shop.token, "loyalty_id": shop.personal_id}
    if verb in ("attach", "detach"):
        params |= {"db_id": shop.db_id, "email": "bob@example.com"}
    if verb in ("get", "activate", "update", "detach"):
        params["code"] = "FREE-1"
    if verb == "import":
        params["codes"] = ["NEW-1"]
    if verb == "update":
        params["activated"] = True
    return params


def post_json_text(client, verb: str, text: str, **kwargs):
    """POST a JSON body written by hand (escapes such as \\ud800 kept as they are)."""
    response = client.post(path(verb), data=text, content_type="application/json", **kwargs)
    return response.status_code, parse_envelope(response)


def attachments(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Attachment))


def no_python_words(envelope: dict) -> None:
    text = json.dumps(envelope.get("errors"))
    for words in PYTHON_WORDS:
        assert words not in text, text


# Class 2: no 500 on input ---------------------------------------------------------------


@pytest.mark.parametrize("verb", ["attach", "detach"])
@pytest.mark.parametrize("field", PROFILE_FIELDS)
@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "a\x00b", "\x00"])
def test_lone_surrogates_and_nul_in_profile_fields_are_a_400(
    client, session, shop, verb, field, bad
):
    params = base(shop, verb)
    if field.startswith("field_"):
        params.pop("email")
        params |= {"field_name": "card", "field_value": "1001", field: bad}
    else:
        params[field] = bad
        params["matching"] = field
    before = attachments(session)
    status, body = post_json_text(client, verb, json.dumps(params))
    assert status == 400, body
    assert body["error_text"] == "Incorrect request"
    assert list(body["errors"]) == [field]
    no_python_words(body)
    assert attachments(session) == before


@pytest.mark.parametrize("bad", ["a%00b", "%ED%A0%80"])
def test_nul_and_broken_utf8_in_a_form_are_a_400(client, session, shop, bad):
    body = f"token={shop.token}&db_id={shop.db_id}&loyalty_id={shop.personal_id}&email={bad}"
    response = client.post(
        path("attach"), data=body, content_type="application/x-www-form-urlencoded"
    )
    envelope = parse_envelope(response)
    assert response.status_code == 400, envelope
    no_python_words(envelope)
    assert attachments(session) == 0


@pytest.mark.parametrize(
    ("verb", "field"),
    [(verb, "loyalty_id") for verb in VERBS] + [("attach", "db_id"), ("detach", "db_id")],
)
@pytest.mark.parametrize("as_text", [True, False])
def test_integers_of_thousands_of_digits_are_a_400(client, session, shop, verb, field, as_text):
    params = base(shop, verb)
    digits = "9" * 5000
    text = json.dumps({**params, field: "@"}).replace('"@"', f'"{digits}"' if as_text else digits)
    before = attachments(session)
    status, body = post_json_text(client, verb, text)
    assert status == 400, body
    assert body["error_text"] == "Incorrect request"
    no_python_words(body)
    assert attachments(session) == before


@pytest.mark.parametrize(
    "expire_date",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-00:01"],
)
def test_an_expire_date_pushed_out_of_range_by_its_offset_is_a_400(
    client, session, shop, expire_date
):
    params = base(shop, "update") | {"expire_date": expire_date}
    params.pop("activated")
    status, body = post_json_text(client, "update", json.dumps(params))
    assert status == 400, body
    assert list(body["errors"]) == ["expire_date"]
    no_python_words(body)
    session.rollback()
    assert session.scalar(select(PromoCode.expire_date).where(PromoCode.code == "FREE-1")) is None


# Class 3: our words, one reading of each parameter -----------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        ("application/json", b'{"token": "\xff\xfe"}', "not UTF-8 text (byte 12"),
        ("application/x-www-form-urlencoded", b"token=\xff\xfe", "not UTF-8 text"),
        ("application/x-www-form-urlencoded", b"token=%ff", "not UTF-8 text"),
        ("application/xml", b"<xml><token>\xff\xfe</token></xml>", "(line 1, column 13)"),
        ("application/json", b"[" * 100_000, "nested too deeply"),
        ("application/json", b'{"db_id": ' + b"9" * 5000 + b"}", "more than 100 digits"),
        ("application/json", b'{"token": "x",}', "not valid JSON (line 1, column 15)"),
        ("application/xml", b"<xml>" + b"<a>" * 100_000 + b"</xml>", "deeper than 8 levels"),
        ("application/xml", b"<xml>" + b"<a/>" * 100_001 + b"</xml>", "more than 100,000"),
        ("application/xml", b"<xml><token>x</xml>", "not well-formed UTF-8 XML (line 1"),
    ],
)
def test_an_unreadable_body_is_told_in_our_words(client, shop, content_type, body, said):
    response = client.post(path("attach"), data=body, content_type=content_type)
    envelope = parse_envelope(response)
    assert response.status_code == 400, envelope
    assert list(envelope["errors"]) == ["body"]
    no_python_words(envelope)
    assert said in envelope["errors"]["body"][0]


def test_duplicate_json_keys_are_refused_like_a_repeated_form_field(client, session, shop):
    text = (
        f'{{"token": "{shop.token}", "db_id": {shop.db_id}, "loyalty_id": {shop.personal_id},'
        f' "email": "alice@example.com", "email": "bob@example.com"}}'
    )
    status, body = post_json_text(client, "attach", text)
    assert status == 400, body
    assert list(body["errors"]) == ["email"]
    assert attachments(session) == 0


@pytest.mark.parametrize("where", ["header", "query"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_null_or_empty_token_in_the_body_means_not_given(client, session, shop, where, fmt):
    params = base(shop, "attach")
    token = params.pop("token")
    kwargs = (
        {"headers": {"Authorization": f"Bearer {token}"}}
        if where == "header"
        else {"query_string": {"token": token, "format": "json"}}
    )
    if fmt == "json":
        text = json.dumps({**params, "token": None, "format": None})
        response = client.post(path("attach"), data=text, content_type="application/json", **kwargs)
    else:
        fields = "".join(f"<{key}>{value}</{key}>" for key, value in params.items())
        text = f"<xml><token/><format/>{fields}</xml>"
        response = client.post(path("attach"), data=text, content_type="application/xml", **kwargs)
    body = parse_envelope(response)
    assert response.status_code == 200, body
    assert attachments(session) == 1


def test_a_wrong_method_answers_405_with_allow(client):
    response = client.get(path("attach"))
    assert response.status_code == 405
    assert parse_envelope(response)["error_text"] == "Method not allowed"
    assert "POST" in response.headers["Allow"]


# Class 4: no work for a caller without a valid token ----------------------------------------

NESTED_MIB = b"<xml>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</xml>"


@pytest.mark.parametrize("where", ["header", "query"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/xml", NESTED_MIB), ("application/json", b"[" * 500_000), ("text/plain", b"x")],
)
def test_a_token_outside_the_body_is_checked_before_the_body_is_read(
    client, shop, where, content_type, body
):
    kwargs = (
        {"headers": {"Authorization": "Bearer not-a-token"}}
        if where == "header"
        else {"query_string": {"token": "not-a-token"}}
    )
    response = client.post(path("attach"), data=body, content_type=content_type, **kwargs)
    envelope = parse_envelope(response)
    assert (response.status_code, envelope["error_text"]) == (401, "Invalid API token")


def test_a_valid_token_outside_the_body_still_gets_the_bodys_errors(client, shop):
    response = client.post(
        path("attach"),
        data=b'{"db_id": 1,}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {shop.token}"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in parse_envelope(response)["errors"]["body"][0]
