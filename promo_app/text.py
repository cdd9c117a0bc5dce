"""Text a person or a client gives: what every database we run on can store, and what a
spreadsheet can open safely."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """Prefix ' to a cell a spreadsheet would run as a formula (OWASP's CSV injection rule)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def unstorable(value: str) -> str | None:
    """Say why `value` cannot be stored as text (PostgreSQL refuses NUL, UTF-8 refuses lone
    surrogates), or None when it can."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be Unicode text: it holds a lone surrogate (such as \\ud800)."
    return None
