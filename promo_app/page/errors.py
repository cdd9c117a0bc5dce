"""The page's own error pages (never app-wide: a host's pages stay its own)."""

from __future__ import annotations

from flask import (
    render_template,
)
from werkzeug.exceptions import HTTPException

from .blueprint import bp


def size_text(size: int) -> str:
    """Return a number of bytes as people read it: 200 MiB, 1.5 KiB, 10 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code in (400, 403, 404, 405):
        return render_error(error.code, error.description)
    return error


def render_error(status: int, message: str | None):
    titles = {
        400: "Bad request",
        403: "Not allowed",
        404: "Not found",
        405: "Not allowed",
        413: "File too large",
    }
    html = render_template(
        "promo/error.html", title=titles.get(status, "Error"), message=message, status=status
    )
    return html, status
