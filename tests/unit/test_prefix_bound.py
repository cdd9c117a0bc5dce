"""The range the page's code search uses on SQLite: `prefix <= code < bound`, with `bound`
the least string above every string that starts with the prefix (code point order, which is
the byte order of UTF-8, SQLite's binary collation)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promo_app.codes import _prefix_upper_bound

# No database: the PostgreSQL pass would repeat these exactly.
pytestmark = pytest.mark.db_independent

# Text as SQLite can store it: any code point but the surrogates (hypothesis's default).
texts = st.text(max_size=6)
edgy = st.text(alphabet=st.sampled_from("A\x00\x7f\ud7ff\ue000\uffff\U0010ffff"), max_size=4)


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("ABC", "ABD"),
        ("a", "b"),
        ("50%", "50&"),  # a wildcard is just a character
        ("Z", "["),
        ("é", "ê"),
        ("A\uffff", "A\U00010000"),  # into the supplementary planes
        ("A\ud7ff", "A\ue000"),  # over the surrogates, which cannot be stored
        ("A\U0010ffff", "B"),  # the last code point has no successor: carry left
        ("AB\U0010ffff\U0010ffff", "AC"),
    ],
)
def test_the_bound_is_the_prefix_with_its_last_character_raised(prefix, bound):
    assert _prefix_upper_bound(prefix) == bound


@pytest.mark.parametrize("prefix", ["", "\U0010ffff", "\U0010ffff\U0010ffff"])
def test_a_prefix_that_every_greater_string_starts_with_has_no_bound(prefix):
    assert _prefix_upper_bound(prefix) is None


@given(prefix=st.one_of(texts, edgy), rest=st.one_of(texts, edgy))
def test_every_string_with_the_prefix_is_inside_the_range(prefix, rest):
    bound = _prefix_upper_bound(prefix)
    assert prefix <= prefix + rest
    assert bound is None or prefix + rest < bound


@given(prefix=st.one_of(texts, edgy), other=st.one_of(texts, edgy))
def test_no_string_without_the_prefix_is_inside_the_range(prefix, other):
    bound = _prefix_upper_bound(prefix)
    inside = prefix <= other and (bound is None or other < bound)
    assert inside == other.startswith(prefix)
