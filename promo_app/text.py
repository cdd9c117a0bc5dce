"""Text a person or a client gives: what every database we run on can store."""

from __future__ import annotations


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
