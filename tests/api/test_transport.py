"""The transport rules of SPEC.md: bodies, token places, formats, limits and the envelope."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from promo_app.models import Attachment
from tests.helpers import parse_envelope

PATH = "/api/v1.1/promocodes/attach"


def params(shop, **extra):
    return {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.personal_id,
        "email": "bob@example.com",
        **extra,
    }


def xml_body(values: dict) -> str:
    return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in values.items()) + "</xml>"


def test_json_answer_has_exactly_the_envelope(client, shop):
    response = client.post(PATH, json=params(shop))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"data", "error", "error_text"}


def test_xml_answer_is_the_envelope_under_xml_root(client, shop):
    response = client.post(PATH, data=xml_body(params(shop)), content_type="text/xml")
    assert response.mimetype == "application/xml"
    text_ = response.get_data(as_text=True)
    assert text_.startswith('<?xml version="1.0" encoding="utf-8"?>\n<xml><data><code>FREE-1')
    assert text_.endswith("<error>0</error><error_text>Successful operation</error_text></xml>")


def test_xml_error_has_empty_data_and_field_list(client, shop):
    response = client.post(PATH, data=xml_body(params(shop, db_id="x")), content_type="text/xml")
    assert response.status_code == 400
    text_ = response.get_data(as_text=True)
    assert "<data></data><error>400</error><error_text>Incorrect request</error_text>" in text_
    assert '<errors><field name="db_id">Not a valid integer.</field></errors>' in text_


@pytest.mark.parametrize(
    ("headers", "query", "body_type", "expected"),
    [
        ({}, "", "json", "json"),
        ({}, "", "xml", "xml"),
        ({}, "", "form", "json"),
        ({"Accept": "application/xml"}, "", "json", "xml"),
        ({"Accept": "text/xml"}, "", "form", "xml"),
        ({"Accept": "application/json"}, "", "xml", "json"),
        ({"Accept": "*/*"}, "", "xml", "xml"),
        ({"Accept": "application/xml;q=0.5, application/json"}, "", "xml", "json"),
        ({"Accept": "application/xml"}, "?format=json", "json", "json"),
        ({}, "?format=xml", "json", "xml"),
        ({"Accept": "application/xml"}, "", "json+format=json", "json"),
        ({}, "", "xml+format=json", "json"),
    ],
)
def test_response_format_negotiation(client, shop, headers, query, body_type, expected):
    kind, _, fmt = body_type.partition("+format=")
    values = params(shop, **({"format": fmt} if fmt else {}))
    if kind == "json":
        response = client.post(PATH + query, json=values, headers=headers)
    elif kind == "xml":
        response = client.post(
            PATH + query, data=xml_body(values), content_type="application/xml", headers=headers
        )
    else:
        response = client.post(PATH + query, data=values, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == f"application/{expected}"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ("<xml><db_id>1</xml>", "application/xml"),
        ("<root><db_id>1</db_id></root>", "application/xml"),
        ("<xml>just text</xml>", "application/xml"),
        ("a=1&b", "application/x-www-form-urlencoded"),
        (b"\xff\xfe{}", "application/json"),
    ],
)
def test_unreadable_body_is_incorrect_request(client, shop, body, content_type):
    response = client.post(PATH, data=body, content_type=content_type)
    answer = parse_envelope(response)
    assert (response.status_code, answer["error_text"]) == (400, "Incorrect request")
    assert list(answer["errors"]) == ["body"]


def test_unparsable_xml_is_answered_in_xml(client):
    response = client.post(PATH, data="<xml><oops></xml>", content_type="application/xml")
    assert (response.status_code, response.mimetype) == (400, "application/xml")
    assert parse_envelope(response)["error_text"] == "Incorrect request"


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<xml><token>&b;</token></xml>",
        '<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><token>x</token></xml>',
        "<!DOCTYPE xml><xml><token>x</token></xml>",
    ],
)
def test_xml_with_entities_or_dtd_is_refused(client, document):
    response = client.post(PATH, data=document, content_type="application/xml")
    answer = parse_envelope(response)
    assert (response.status_code, answer["error_text"]) == (400, "Incorrect request")
    assert "root:x:0:0" not in response.get_data(as_text=True)


def test_unsupported_content_type(client, shop):
    response = client.post(PATH, data=json.dumps(params(shop)), content_type="text/plain")
    answer = parse_envelope(response)
    assert (response.status_code, answer["error"], answer["error_text"]) == (
        415,
        415,
        "Unsupported content type",
    )


def test_body_over_the_limit_is_request_too_large(app, client, shop, session):
    app.config["PROMO_MAX_BODY_BYTES"] = 2048
    big = params(shop, code="X" * 200, padding="y" * 4000)
    response = client.post(PATH, json=big)
    answer = parse_envelope(response)
    assert (response.status_code, answer["error"], answer["error_text"]) == (
        413,
        413,
        "Request too large",
    )
    assert client.post(PATH, json=params(shop)).status_code == 200


def test_chunked_body_over_the_limit_is_request_too_large(app, client, shop):
    """Without Content-Length the body is still read no further than the limit."""
    app.config["PROMO_MAX_BODY_BYTES"] = 1024
    response = client.post(
        PATH,
        input_stream=io.BytesIO(b'{"token": "' + b"x" * 4096 + b'"}'),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert (response.status_code, parse_envelope(response)["error_text"]) == (
        413,
        "Request too large",
    )


@pytest.mark.parametrize("place", ["query", "bearer"])
def test_token_may_come_from_query_or_bearer_header(client, shop, place):
    values = params(shop)
    token = values.pop("token")
    if place == "query":
        response = client.post(f"{PATH}?token={token}", json=values)
    else:
        response = client.post(PATH, json=values, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("place", ["query", "bearer"])
def test_same_parameter_with_two_values_is_incorrect_request(client, shop, place):
    # Both tokens valid: an invalid one outside the body is a 401 before the body is read.
    body = params(shop, token=shop.limited_token)
    if place == "query":
        response = client.post(f"{PATH}?token={shop.token}", json=body)
    else:
        response = client.post(PATH, json=body, headers={"Authorization": f"Bearer {shop.token}"})
    answer = parse_envelope(response)
    assert (response.status_code, list(answer["errors"])) == (400, ["token"])


def test_same_value_in_two_places_is_fine(client, shop):
    response = client.post(f"{PATH}?token={shop.token}&format=json", json=params(shop))
    assert response.status_code == 200


def test_other_query_parameters_are_refused(client, shop):
    response = client.post(f"{PATH}?db_id=1", json=params(shop))
    assert (response.status_code, list(parse_envelope(response)["errors"])) == (400, ["db_id"])


def test_form_with_repeated_parameter_is_incorrect_request(client, shop):
    form = MultiDict([*params(shop).items(), ("email", "alice@example.com")])
    response = client.post(PATH, data=form)
    assert (response.status_code, list(parse_envelope(response)["errors"])) == (400, ["email"])


def test_get_and_unknown_verb_answer_in_the_envelope(client):
    response = client.get(PATH)
    assert (response.status_code, parse_envelope(response)["error"]) == (405, 405)
    response = client.post("/api/v1.1/promocodes/nope", json={})
    assert (response.status_code, parse_envelope(response)["error_text"]) == (404, "Not found")


def test_characters_xml_cannot_carry_do_not_break_xml_answers(client, shop):
    response = client.post(
        PATH + "?format=xml", json={**params(shop), "bad\u0001name": "x", "a b": "y"}
    )
    answer = parse_envelope(response)
    assert response.status_code == 400
    assert sorted(answer["errors"]) == ["a b", "bad\ufffdname"]


def test_broken_database_is_internal_error_without_traceback(app, client, shop, session, caplog):
    session.execute(text("DROP TABLE promo_attachment"), bind_arguments={"mapper": Attachment})
    session.commit()
    with caplog.at_level(logging.ERROR):
        response = client.post(PATH, json=params(shop))
    assert response.status_code == 500
    assert response.get_json() == {"data": None, "error": 500, "error_text": "Internal error"}
    assert "Traceback" not in response.get_data(as_text=True)
    assert any(record.exc_info for record in caplog.records)
