"""What every template of the page sees: its globals and filters."""

from __future__ import annotations

from flask import (
    g,
)

from ..times import rfc3339
from .blueprint import bp
from .forms import SignOutForm
from .statuses import STATUSES


@bp.context_processor
def _page_globals():
    show_sign_out = g.get("promo_admin") is not None
    return {
        "admin": g.get("promo_admin"),
        "sign_out_form": SignOutForm(formdata=None) if show_sign_out else None,
        "statuses": STATUSES,
        "rfc3339": rfc3339,
    }


@bp.app_template_filter("promo_number")
def _promo_number(value: int) -> str:
    return f"{value:,}"


@bp.app_template_filter("promo_visible")
def _promo_visible(value: str) -> str:
    return visible(value)


@bp.app_template_filter("promo_time")
def _promo_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def visible(text: str) -> str:
    """Show the characters that would not be seen (tabs, controls) as escapes such as \\t."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
