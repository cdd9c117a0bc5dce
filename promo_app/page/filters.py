"""Template filters of the page."""

from __future__ import annotations


def visible(text: str) -> str:
    """Show the characters that would not be seen (tabs, controls) as escapes such as \\t."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
