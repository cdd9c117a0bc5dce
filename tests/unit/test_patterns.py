"""Patterns of generated codes: capacity, guessability, the alphabet, the draw (no app)."""

from __future__ import annotations

import pytest

from promo_app.generating.patterns import ALPHABETS, Pattern, PatternError, check_count, draw_codes

LOOK_ALIKES = "0O1IL5S2Z8B"


def test_default_alphabet_leaves_out_look_alikes():
    letters, digits = ALPHABETS["unambiguous"]
    assert not set(letters + digits) & set(LOOK_ALIKES)
    codes = list(draw_codes(Pattern("*" * 12), 2000))
    assert not set("".join(codes)) & set(LOOK_ALIKES)


@pytest.mark.parametrize(
    ("body", "alphabet", "capacity"),
    [
        ("####", "unambiguous", 5**4),
        ("@@", "unambiguous", 20**2),
        ("*", "full", 36),
        ("A-#-@", "full", 260),
    ],
)
def test_capacity_is_the_product_of_the_placeholders(body, alphabet, capacity):
    assert Pattern(body, "X", "Y", alphabet).capacity == capacity


def test_codes_follow_the_pattern():
    letters, digits = ALPHABETS["unambiguous"]
    for code in draw_codes(Pattern("#@*-", "SUMMER-", "!"), 500):
        assert code.startswith("SUMMER-") and code.endswith("-!") and len(code) == 12
        assert code[7] in digits and code[8] in letters and code[9] in letters + digits


def test_a_pattern_without_placeholders_is_refused():
    with pytest.raises(PatternError, match="at least one placeholder") as refused:
        Pattern("-2026", "SUMMER")
    assert refused.value.field == "pattern"


def test_a_count_over_the_room_names_the_capacity():
    with pytest.raises(PatternError, match="can make 3,125 codes") as refused:
        check_count(Pattern("#####"), 313, 0, force=True)
    assert "takes 312 more" in str(refused.value)
    check_count(Pattern("#####"), 312, 0, force=True)


def test_existing_codes_take_room():
    with pytest.raises(PatternError, match="takes 12 more"):
        check_count(Pattern("#####"), 13, 300, force=True)


def test_a_short_pattern_is_refused_unless_forced():
    with pytest.raises(PatternError, match=r"bits of randomness"):
        check_count(Pattern("******"), 10, 0)  # 25**6: 27.9 bits
    check_count(Pattern("******"), 10, 0, force=True)
    check_count(Pattern("*******"), 10, 0)  # 25**7: 32.5 bits


def test_every_code_is_equally_likely():
    counts = {}
    for code in draw_codes(Pattern("#", alphabet="full"), 20_000):
        counts[code] = counts.get(code, 0) + 1
    assert sorted(counts) == list("0123456789")
    assert all(1700 < n < 2300 for n in counts.values())


@pytest.mark.parametrize(
    ("prefix", "body", "message"),
    [
        (" X", "###", "cannot start or end with a space"),
        ("X\t", "###", "printable"),
        ("X" * 250, "######", "at most 255 characters"),
    ],
)
def test_a_code_the_service_would_refuse_is_refused_before_drawing(prefix, body, message):
    with pytest.raises(PatternError, match=message):
        Pattern(body, prefix)


def test_an_unknown_alphabet_is_refused():
    with pytest.raises(PatternError, match="unambiguous or full") as refused:
        Pattern("####", alphabet="greek")
    assert refused.value.field == "alphabet"


def test_braces_in_prefix_and_suffix_are_kept_as_text():
    [code] = draw_codes(Pattern("#", "{x}", "}"), 1)
    assert code.startswith("{x}") and code.endswith("}") and len(code) == 5


def test_literal_prefix_runs_up_to_the_first_placeholder():
    assert Pattern("AB-##", "SUMMER-").literal_prefix == "SUMMER-AB-"
