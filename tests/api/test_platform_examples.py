"""A client written from the marketing platform's developer guide works unchanged.

The answers below are copied from the guide's "Promo codes" pages (import, get, activate,
update, attach, detach, export_all), in JSON and XML, with only the ids, the token and the
profile id changed to the test shop's; the rows' times are set to the pages' times. Under
PROMO_COMPAT = "altcraft" every answer is the page's; in the default "extended" mode get and
export_all are the page's too, and the other verbs say more (docs/api.md lists how).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import xmltodict
from sqlalchemy import select, update

from promo_app.models import Attachment, PromoCode
from tests.helpers import call

STRICT = {"PROMO_COMPAT": "altcraft"}
MODES = [pytest.param({}, id="extended"), pytest.param(STRICT, id="altcraft")]
PATH = "/api/v1.1/promocodes/"
OK_NULL_JSON = '{"data": null, "error": 0, "error_text": "Successful operation"}'
OK_NULL_XML = """
<xml>
    <data></data>
    <error>0</error>
    <error_text>Successful operation</error_text>
</xml>"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def post(client, verb: str, body: str, fmt: str):
    """Send a body as the page writes it; return the answer as (status, parsed)."""
    kind = "application/json" if fmt == "json" else "application/xml"
    response = client.post(PATH + verb, data=body, content_type=kind)
    assert response.mimetype == kind, response.data
    return response.status_code, parse(response.get_data(as_text=True), fmt)


def parse(text: str, fmt: str):
    """Read JSON, or XML as xmltodict does (white space between elements ignored)."""
    return json.loads(text) if fmt == "json" else xmltodict.parse(text)


def set_times(session, loyalty_id: int, code: str, **times: str) -> None:
    promo = session.scalar(
        select(PromoCode).where(PromoCode.loyalty_id == loyalty_id, PromoCode.code == code)
    )
    if "created" in times:
        promo.created = at(times["created"])
    if "activated" in times:
        promo.activated = at(times["activated"])
    if "attached" in times:
        session.execute(
            update(Attachment)
            .where(Attachment.code_id == promo.id)
            .values(attached=at(times["attached"]))
        )
    session.commit()


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


# import (developer guide: promocodes/import) --------------------------------------------

IMPORT_JSON = """{
    "token": "%(token)s",
    "codes": ["CODE-1", "CODE-2"],
    "loyalty_id": %(loyalty_id)s
}"""
IMPORT_XML = """<xml>
    <token>%(token)s</token>
    <codes>CODE-1</codes>
    <codes>CODE-2</codes>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
</xml>"""
IMPORTED_JSON = """{
    "data": [
        {"code": "CODE-1", "error": 0, "error_text": ""},
        {"code": "CODE-2", "error": 0, "error_text": ""}
    ],
    "discarded_by_limit": 0,
    "duplicated": 0,
    "error": 0,
    "error_text": "Successful operation",
    "inserted": 2
}"""
IMPORTED_XML = """<xml>
    <data>
        <code>CODE-1</code>
        <error>0</error>
        <error_text/>
    </data>
    <data>
        <code>CODE-2</code>
        <error>0</error>
        <error_text/>
    </data>
    <discarded_by_limit>0</discarded_by_limit>
    <duplicated>0</duplicated>
    <error>0</error>
    <error_text>Successful operation</error_text>
    <inserted>2</inserted>
</xml>"""
# The guide's answer when CODE-2 is in the program already.
DUPLICATE_JSON = """{
    "data": [
        {"code": "CODE-1", "error": 0, "error_text": ""},
        {"code": "CODE-2", "error": 500, "error_text": "Promocode duplicated"}
    ],
    "discarded_by_limit": 0,
    "duplicated": 1,
    "error": 0,
    "error_text": "Successful operation",
    "inserted": 1
}"""


@pytest.mark.parametrize("app_config", [STRICT])
@pytest.mark.parametrize(
    ("fmt", "body", "answer"),
    [
        ("json", IMPORT_JSON, IMPORTED_JSON),
        ("xml", IMPORT_XML, IMPORTED_XML),
    ],
)
def test_import_answers_as_the_platform_prints(client, shop, fmt, body, answer):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    assert post(client, "import", body % params, fmt) == (200, parse(answer, fmt))


@pytest.mark.parametrize("app_config", [STRICT])
def test_import_reports_a_duplicate_as_the_platform_does(client, shop):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    status, _ = call(client, "import", {**params, "codes": ["CODE-2"]})
    assert status == 200
    assert post(client, "import", IMPORT_JSON % params, "json") == (
        200,
        json.loads(DUPLICATE_JSON),
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_import_in_the_extended_mode_says_what_became_of_each_code(client, shop, fmt):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    call(client, "import", {**params, "codes": ["CODE-2"]})
    body = IMPORT_JSON if fmt == "json" else IMPORT_XML
    status, answer = post(client, "import", body % params, fmt)
    items = answer["data"] if fmt == "json" else answer["xml"]["data"]
    assert status == 200
    assert [(item["error_text"], str(item["error"])) for item in items] == [
        ("Successful operation", "0"),
        ("Promo code already exists", "409"),
    ]


# get (developer guide: promocodes/get) -------------------------------------------------

GET_JSON = '{"token": "%(token)s", "code": "CODE-1", "loyalty_id": %(loyalty_id)s}'
GET_XML = """<xml>
    <token>%(token)s</token>
    <code>CODE-1</code>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
</xml>"""
FREE_JSON = """{
    "data": {
        "created": "2024-04-01T12:39:34Z",
        "is_attached": false,
        "is_activated": false,
        "is_expired": false,
        "attached": "",
        "activated": "",
        "expired": "",
        "expire_date": "",
        "loyalty_id": %(loyalty_id)s,
        "code": "CODE-1"
    },
    "error": 0,
    "error_text": "Successful operation"
}"""
FREE_XML = """<xml>
    <data>
        <activated/>
        <attached/>
        <code>CODE-1</code>
        <created>2024-04-01T12:39:34Z</created>
        <expire_date/>
        <expired/>
        <is_activated>false</is_activated>
        <is_attached>false</is_attached>
        <is_expired>false</is_expired>
        <loyalty_id>%(loyalty_id)s</loyalty_id>
    </data>
    <error>0</error>
    <error_text>Successful operation</error_text>
</xml>"""
# The guide's answer for an attached code (its earlier version's example, code renamed).
ATTACHED_JSON = """{
    "data": {
        "created": "2020-04-02T11:41:47Z",
        "is_attached": true,
        "is_activated": false,
        "is_expired": false,
        "attached": "2020-04-02T16:58:15Z",
        "activated": "",
        "expired": "",
        "expire_date": "",
        "loyalty_id": %(loyalty_id)s,
        "code": "CODE-1",
        "database_id": %(db_id)s,
        "profile_id": "%(profile_id)s"
    },
    "error": 0,
    "error_text": "Successful operation"
}"""


# The same in XML, written the way the guide writes its XML answers.
ATTACHED_XML = """<xml>
    <data>
        <activated/>
        <attached>2020-04-02T16:58:15Z</attached>
        <code>CODE-1</code>
        <created>2020-04-02T11:41:47Z</created>
        <database_id>%(db_id)s</database_id>
        <expire_date/>
        <expired/>
        <is_activated>false</is_activated>
        <is_attached>true</is_attached>
        <is_expired>false</is_expired>
        <loyalty_id>%(loyalty_id)s</loyalty_id>
        <profile_id>%(profile_id)s</profile_id>
    </data>
    <error>0</error>
    <error_text>Successful operation</error_text>
</xml>"""


@pytest.mark.parametrize("app_config", MODES)
@pytest.mark.parametrize(
    ("fmt", "body", "answer"),
    [
        ("json", GET_JSON, FREE_JSON),
        ("xml", GET_XML, FREE_XML),
    ],
)
def test_get_of_a_free_code_answers_as_the_platform_prints(
    client, shop, session, fmt, body, answer
):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    call(client, "import", {**params, "codes": ["CODE-1"]})
    set_times(session, shop.empty_id, "CODE-1", created="2024-04-01T12:39:34Z")
    assert post(client, "get", body % params, fmt) == (200, parse(answer % params, fmt))


@pytest.mark.parametrize("app_config", MODES)
@pytest.mark.parametrize(
    ("fmt", "body", "answer"),
    [
        ("json", GET_JSON, ATTACHED_JSON),
        ("xml", GET_XML, ATTACHED_XML),
    ],
)
def test_get_of_an_attached_code_answers_as_the_platform_prints(
    client, shop, session, fmt, body, answer
):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    call(client, "import", {**params, "codes": ["CODE-1"]})
    attach(client, shop, "CODE-1", shop.empty_id)
    times = {"created": "2020-04-02T11:41:47Z", "attached": "2020-04-02T16:58:15Z"}
    set_times(session, shop.empty_id, "CODE-1", **times)
    ids = {**params, "db_id": shop.db_id, "profile_id": shop.profiles["alice"]}
    assert post(client, "get", body % params, fmt) == (200, parse(answer % ids, fmt))


# activate, update, attach, detach: data null --------------------------------------------

ACTIVATE_JSON = '{"code": "CODE-12345", "loyalty_id": %(loyalty_id)s, "token": "%(token)s"}'
UPDATE_XML = """<xml>
    <token>%(token)s</token>
    <activated>true</activated>
    <code>CODE-12345</code>
    <expire_date>2024-08-10T08:00:00Z</expire_date>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
</xml>"""
UPDATE_JSON = """{
    "token": "%(token)s",
    "activated": true,
    "code": "CODE-12345",
    "expire_date": "2018-08-25T08:00:00Z",
    "loyalty_id": %(loyalty_id)s
}"""
ATTACH_JSON = """{
    "token": "%(token)s",
    "db_id": %(db_id)s,
    "matching": "profile_id",
    "profile_id": "%(profile_id)s",
    "loyalty_id": %(loyalty_id)s,
    "code": "CODE-12345"
}"""
ATTACH_XML = """<xml>
    <token>%(token)s</token>
    <db_id>%(db_id)s</db_id>
    <matching>profile_id</matching>
    <profile_id>%(profile_id)s</profile_id>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
    <code>CODE-12345</code>
</xml>"""
DETACH_JSON = """{
    "token": "%(token)s",
    "code": "CODE-12345",
    "db_id": %(db_id)s,
    "loyalty_id": %(loyalty_id)s,
    "matching": "profile_id",
    "profile_id": "%(profile_id)s"
}"""
DETACH_XML = """<xml>
    <token>%(token)s</token>
    <code>CODE-12345</code>
    <db_id>%(db_id)s</db_id>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
    <matching>profile_id</matching>
    <profile_id>%(profile_id)s</profile_id>
</xml>"""
# In the order a client would call them: attach the code, activate, update, detach.
# (The pages' expiry dates are past: the code is attached again before they are set.)
NULL_DATA_CALLS = [
    ("attach", "json", ATTACH_JSON),
    ("activate", "json", ACTIVATE_JSON),
    ("detach", "json", DETACH_JSON),
    ("attach", "xml", ATTACH_XML),
    ("update", "json", UPDATE_JSON),
    ("update", "xml", UPDATE_XML),
    ("detach", "xml", DETACH_XML),
]


@pytest.mark.parametrize("app_config", MODES)
def test_attach_activate_update_detach_answer_as_the_platform_prints(client, shop, app, session):
    strict = app.config["PROMO_COMPAT"] == "altcraft"
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.empty_id,
        "profile_id": shop.profiles["alice"],
    }
    for verb, fmt, body in NULL_DATA_CALLS:
        status, answer = post(client, verb, body % params, fmt)
        if strict:
            assert (status, answer) == (
                200,
                parse(OK_NULL_JSON if fmt == "json" else OK_NULL_XML, fmt),
            ), verb
        else:
            # The extended mode says what happened: the code's state, or who got which code.
            data = answer["data"] if fmt == "json" else answer["xml"]["data"]
            assert status == 200 and data["code"] == "CODE-12345", (verb, answer)
    # The calls did what they say, in both modes: attached, activated, updated, detached.
    promo = session.scalar(select(PromoCode).where(PromoCode.code == "CODE-12345"))
    assert promo.free and promo.activated is None
    assert promo.expire_date == datetime(2024, 8, 10, 8, 0, 0)


# export_all (developer guide: promocodes/export_all) ------------------------------------

EXPORT_JSON = '{"loyalty_id": %(loyalty_id)s, "token": "%(token)s"}'
EXPORT_XML = """<xml>
    <loyalty_id>%(loyalty_id)s</loyalty_id>
    <token>%(token)s</token>
</xml>"""
EXPORTED_JSON = """{
    "data": [
        {"code": "Code-1"},
        {"code": "Code-2", "attached": "2024-04-01T14:02:05Z", "activated": "2024-04-01T14:04:12Z"},
        {"code": "Code-3"}
    ],
    "error": 0,
    "error_text": "Successful operation"
}"""
EXPORTED_XML = """<xml>
    <data>
        <code>Code-1</code>
    </data>
    <data>
        <code>Code-2</code>
        <attached>2024-04-01T14:02:05Z</attached>
        <activated>2024-04-01T14:04:12Z</activated>
    </data>
    <data>
        <code>Code-3</code>
    </data>
    <error>0</error>
    <error_text>Successful operation</error_text>
</xml>"""


@pytest.mark.parametrize("app_config", MODES)
@pytest.mark.parametrize(
    ("fmt", "body", "answer"),
    [
        ("json", EXPORT_JSON, EXPORTED_JSON),
        ("xml", EXPORT_XML, EXPORTED_XML),
    ],
)
def test_export_all_answers_as_the_platform_prints(client, shop, session, fmt, body, answer):
    params = {"token": shop.token, "loyalty_id": shop.empty_id}
    call(client, "import", {**params, "codes": ["Code-1", "Code-2", "Code-3"]})
    attach(client, shop, "Code-2", shop.empty_id)
    call(client, "activate", {**params, "code": "Code-2"})
    times = {"attached": "2024-04-01T14:02:05Z", "activated": "2024-04-01T14:04:12Z"}
    set_times(session, shop.empty_id, "Code-2", **times)
    assert post(client, "export_all", body % params, fmt) == (200, parse(answer, fmt))


@pytest.mark.parametrize("app_config", MODES)
def test_export_all_of_an_empty_program_is_one_empty_data_element(client, shop):
    response = client.post(
        PATH + "export_all",
        data=EXPORT_XML % {"token": shop.token, "loyalty_id": shop.empty_id},
        content_type="application/xml",
    )
    assert response.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<xml><data/><error>0</error><error_text>Successful operation</error_text></xml>"
    )
