"""The envelope as the API writes it, in JSON and in XML, whole or streamed: no app."""

from __future__ import annotations

import json

import pytest
import xmltodict

from promo_app.api.envelope import (
    SUCCESS_TEXT,
    _json_chunks,
    _xml_chunks,
    to_json,
    to_xml,
    xml_item,
    xml_value,
)
from promo_app.api.params import flatten_errors

# No database: the PostgreSQL pass would repeat these exactly.
pytestmark = pytest.mark.db_independent

HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def test_json_is_compact_and_ascii():
    assert to_json({"data": None, "error": 0, "error_text": "é"}) == (
        '{"data":null,"error":0,"error_text":"\\u00e9"}'
    )
    assert to_json({"b": [1, None, True, "x"]}) == '{"b":[1,null,true,"x"]}'


def test_xml_has_one_root_and_an_empty_element_for_null():
    assert to_xml({"data": None, "error": 0, "error_text": SUCCESS_TEXT}) == (
        HEAD
        + "<xml><data></data><error>0</error><error_text>Successful operation</error_text></xml>"
    )


def test_xml_writes_booleans_as_words_lists_as_items_and_escapes_text():
    body = {
        "data": [{"code": "A&<B>", "attached": True}, {"code": "C", "attached": False}],
        "error": 0,
    }
    assert to_xml(body) == (
        HEAD + "<xml><data>"
        "<item><code>A&amp;&lt;B&gt;</code><attached>true</attached></item>"
        "<item><code>C</code><attached>false</attached></item>"
        "</data><error>0</error></xml>"
    )
    assert to_xml({"data": [], "error": 0}) == HEAD + "<xml><data></data><error>0</error></xml>"


def test_xml_field_errors_are_one_element_per_message():
    body = {"data": None, "error": 400, "errors": {"db_id": ["bad", "worse"], "code": ["x"]}}
    assert to_xml(body).endswith(
        '<errors><field name="db_id">bad</field><field name="db_id">worse</field>'
        '<field name="code">x</field></errors></xml>'
    )


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x0b", "\ufffe", "\ud800"])
def test_characters_xml_cannot_carry_become_the_replacement_character(bad):
    written = to_xml({"data": {"code": f"A{bad}B"}, "error": 0})
    assert xmltodict.parse(written)["xml"]["data"]["code"] == "A\ufffdB"


def test_tab_newline_and_supplementary_characters_survive_xml():
    text = "a\tb\nc \U0001f600"
    assert xmltodict.parse(to_xml({"data": text}))["xml"]["data"] == text


def test_xml_values_are_text_or_none():
    assert xml_value({"n": 5, "ok": False, "none": None, "list": (1, "a")}) == {
        "n": "5",
        "ok": "false",
        "none": None,
        "list": ["1", "a"],
    }


@pytest.mark.parametrize(
    ("messages", "flat"),
    [
        ({"db_id": ["Missing data."]}, {"db_id": ["Missing data."]}),
        ({"a": {"b": ["x"], 0: ["y"]}, "c": "z"}, {"a.b": ["x"], "a.0": ["y"], "c": ["z"]}),
        ({"codes": {1: {"code": ["bad"]}}}, {"codes.1.code": ["bad"]}),
        ("Invalid input.", {"_request": ["Invalid input."]}),
        (["m1", {"f": ["m2"]}], {"f": ["m2"], "_request": ["m1"]}),
        ({"f": ["m1", "m2"]}, {"f": ["m1", "m2"]}),
    ],
)
def test_marshmallow_messages_are_flattened_to_dotted_field_names(messages, flat):
    assert flatten_errors(messages) == flat


ITEMS = [
    [],
    [{"code": "ONE", "attached": False, "activated": False}],
    [
        {"code": "A&B", "attached": True, "activated": False},
        {"code": "<x>", "attached": False, "activated": True},
        {"code": "é\x00", "attached": False, "activated": False},
    ],
]


@pytest.mark.parametrize("items", ITEMS)
def test_a_streamed_json_envelope_is_the_same_bytes_as_a_whole_one(items):
    streamed = "".join(_json_chunks(iter(items)))
    assert streamed == to_json({"data": items, "error": 0, "error_text": SUCCESS_TEXT})
    assert json.loads(streamed)["data"] == items


@pytest.mark.parametrize("items", ITEMS)
def test_a_streamed_xml_envelope_is_the_same_bytes_as_a_whole_one(items):
    streamed = "".join(_xml_chunks(iter(items)))
    assert streamed == to_xml({"data": items, "error": 0, "error_text": SUCCESS_TEXT})


def test_an_item_with_a_nested_value_or_an_odd_key_is_written_the_general_way():
    nested = {"code": "A", "fields": {"card": "7"}}
    assert xml_item(nested) == "<item><code>A</code><fields><card>7</card></fields></item>"
    assert (
        xml_item({"code": "A", "attached": None})
        == "<item><code>A</code><attached></attached></item>"
    )
