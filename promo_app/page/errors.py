"""The page's own error pages (never app-wide: a host's pages stay its own)."""

from __future__ import annotations

from flask import (
    current_app,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .blueprint import bp


def size_text(size: int) -> str:
    """Return a number of bytes as people read it: 200 MiB, 1.5 KiB, 10 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    limit = size_text(current_app.config["PROMO_MAX_UPLOAD_BYTES"])
    message = f"The file is larger than the limit of {limit}. Nothing was imported."
    if request.endpoint == "promo_page.upload" and request.view_args:
        from .views import render_upload_form

        return render_upload_form(request.view_args["loyalty_id"], message, status=413)
    return render_error(413, message)


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
