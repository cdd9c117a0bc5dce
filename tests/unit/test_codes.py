"""Promo codes and times as the API reads and writes them: pure functions, no app."""

from __future__ import annotations

from datetime import datetime

import pytest

from promo_app.codes import MAX_CODE_LENGTH, InvalidCode, normalize_code
from promo_app.times import parse_expire_date, rfc3339

# No database: the PostgreSQL pass would repeat these exactly.
pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("SUMMER", "SUMMER"),
        ("  free-1 \t\r\n", "free-1"),  # trimmed; case kept
        ("\u00a0NBSP\u3000", "NBSP"),  # no-break and ideographic spaces are white space too
        ("TWO WORDS", "TWO WORDS"),  # inner spaces stay
        ("CAFÉ-Ω-€", "CAFÉ-Ω-€"),
        ("50%_off", "50%_off"),  # LIKE's wildcards are ordinary characters of a code
        ("X" * MAX_CODE_LENGTH, "X" * MAX_CODE_LENGTH),
        (" " + "X" * MAX_CODE_LENGTH + " ", "X" * MAX_CODE_LENGTH),  # length counted trimmed
    ],
)
def test_a_code_is_its_text_trimmed(raw, code):
    assert normalize_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "must not be empty"),
        (" \t\n\u00a0", "must not be empty"),
        ("X" * (MAX_CODE_LENGTH + 1), f"at most {MAX_CODE_LENGTH} characters"),
        ("A\x00B", "control characters"),
        ("A\tB", "control characters"),  # a tab inside is not trimmed away
        ("A\u200bB", "control characters"),  # zero-width space: invisible, not white space
        ("\u200b", "control characters"),
        ("A\x7f", "control characters"),
    ],
)
def test_a_string_that_cannot_be_a_code_is_refused_saying_why(raw, message):
    with pytest.raises(InvalidCode, match=message):
        normalize_code(raw)


@pytest.mark.parametrize(
    ("raw", "moment"),
    [
        # A date is valid through that whole day, UTC.
        ("2026-12-31", datetime(2026, 12, 31, 23, 59, 59)),
        (" 2026-02-28\n", datetime(2026, 2, 28, 23, 59, 59)),
        ("2028-02-29", datetime(2028, 2, 29, 23, 59, 59)),  # a leap day
        ("2026-12-31T10:00:00Z", datetime(2026, 12, 31, 10, 0, 0)),
        ("2026-12-31t10:00:00z", datetime(2026, 12, 31, 10, 0, 0)),  # RFC 3339 allows lower case
        ("2026-12-31T10:00:00+03:00", datetime(2026, 12, 31, 7, 0, 0)),  # stored as UTC
        ("2026-12-31T23:30:00-01:00", datetime(2027, 1, 1, 0, 30, 0)),  # into the next year
        ("2026-06-01T12:00:00.250Z", datetime(2026, 6, 1, 12, 0, 0, 250000)),
        ("2026-06-01T12:00:00", datetime(2026, 6, 1, 12, 0, 0)),  # no offset: taken as UTC
    ],
)
def test_an_expiry_is_read_as_naive_utc(raw, moment):
    parsed = parse_expire_date(raw)
    assert parsed == moment
    assert parsed.tzinfo is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "tomorrow",
        "2026-02-30",
        "2026-13-01",
        "31.12.2026",
        "2026/12/31",
        "2026-12-31T25:00:00Z",
    ],
)
def test_what_is_not_a_time_is_refused_naming_both_spellings(raw):
    with pytest.raises(ValueError) as refused:
        parse_expire_date(raw)
    assert str(refused.value) == (
        f"Not a date: {raw!r}; use YYYY-MM-DD or an RFC 3339 time such as 2026-12-31T23:59:59Z."
    )


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, ""),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 999999), "2026-01-02T03:04:05Z"),  # cut, not rounded
        (datetime(1999, 12, 31, 23, 59, 59), "1999-12-31T23:59:59Z"),
    ],
)
def test_a_stored_time_is_written_as_rfc3339_in_whole_seconds(moment, text):
    assert rfc3339(moment) == text


@pytest.mark.parametrize(
    "raw",
    ["2026-12-31", "2026-12-31T10:00:00Z", "2026-12-31T13:00:00+03:00", "2026-12-31T10:00:00"],
)
def test_an_expiry_written_back_reads_the_same(raw):
    moment = parse_expire_date(raw)
    assert parse_expire_date(rfc3339(moment)) == moment
