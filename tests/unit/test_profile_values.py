"""What a call says a profile holds, checked without an app: `profiles.values`."""

from __future__ import annotations

import pytest

from promo_app.errors import IncorrectRequest
from promo_app.profiles.matching import ProfileKey
from promo_app.profiles.values import UNSET, key_for, read_values

DECLARED = {"card": 1, "user_id": 2}


def test_values_set_clear_or_leave_each_field():
    values = read_values(
        {"email": "  Ann@Example.com ", "phone": "", "card": 501, "user_id": None}, DECLARED
    )
    assert (values.email, values.phone) == ("Ann@Example.com", None)
    assert values.fields == {1: "501", 2: None}
    assert values.keyed("email") == "ann@example.com"
    assert values.keyed("phone") is None
    assert read_values({}, DECLARED).email is UNSET


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"nope": "1"}, "data.nope"),
        ({"card": True}, "data.card"),
        ({"card": 1.5}, "data.card"),
        ({"card": ["a"]}, "data.card"),
        ({"card": "x" * 1025}, "data.card"),
        ({"email": "a" * 321}, "data.email"),
        ({"phone": "(-)"}, "data.phone"),
        ({"phone": "1" * 65}, "data.phone"),
    ],
)
def test_bad_values_are_refused_by_name(data, named):
    with pytest.raises(IncorrectRequest) as refused:
        read_values(data, DECLARED)
    assert list(refused.value.errors) == [named]


@pytest.mark.parametrize(
    ("matching", "given", "data", "key"),
    [
        (None, {"email": "a@x"}, {"phone": "+1"}, ProfileKey("email", "a@x")),
        (None, {"profile_id": "f" * 24, "email": "a@x"}, {}, ProfileKey("profile_id", "f" * 24)),
        (None, {}, {"email": "b@x", "phone": "+1"}, ProfileKey("email", "b@x")),
        (None, {}, {"phone": "+1"}, ProfileKey("phone", "+1")),
        ("phone", {}, {"email": "b@x", "phone": "+2"}, ProfileKey("phone", "+2")),
        (
            "custom",
            {"field_name": "user_id"},
            {"user_id": 42},
            ProfileKey("custom", "42", "user_id"),
        ),
        (
            "custom",
            {"field_name": "card", "field_value": "7"},
            {"card": "8"},
            ProfileKey("custom", "7", "card"),
        ),
    ],
)
def test_the_key_comes_from_the_top_level_then_from_the_data(matching, given, data, key):
    assert key_for(matching, given, read_values(data, DECLARED), DECLARED) == key


@pytest.mark.parametrize(
    ("matching", "given", "data", "named"),
    [
        (None, {}, {"card": "1"}, "matching"),
        ("email", {}, {"phone": "+1"}, "email"),
        ("profile_id", {}, {"email": "a@x"}, "profile_id"),
        ("custom", {}, {"card": "1"}, "field_name"),
        ("custom", {"field_name": "nope"}, {}, "field_name"),
        ("custom", {"field_name": "card"}, {"email": "a@x"}, "field_value"),
    ],
)
def test_no_key_is_refused_naming_what_is_missing(matching, given, data, named):
    with pytest.raises(IncorrectRequest) as refused:
        key_for(matching, given, read_values(data, DECLARED), DECLARED)
    assert list(refused.value.errors) == [named]
