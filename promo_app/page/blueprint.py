"""The page blueprint: who may see it, the upload limit, and its own error pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..db.binding import begin_read_only
from ..models import AdminUser
from ..state import current_promo

bp = Blueprint(
    "promo_page",
    __name__,
    template_folder="../templates",
    static_folder="../static/promo",
    static_url_path="/static",
)

# The signed-in admin's id in Flask's session; prefixed so that it never meets a host's keys.
SESSION_KEY = "promo_admin_id"

OPEN_ENDPOINTS = {"promo_page.static", "promo_page.sign_in"}


@dataclass(frozen=True)
class SignedIn:
    """The admin user of this request."""

    id: int
    name: str


def db_session():
    return current_promo().db.session


def size_text(size: int) -> str:
    """Return a number of bytes as people read it: 200 MiB, 1.5 KiB, 10 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


@bp.before_request
def _guard():
    """Apply the upload limit to this request, then let in only who may see the page."""
    request.max_content_length = current_app.config["PROMO_MAX_UPLOAD_BYTES"]
    g.promo_admin = None
    authorize = current_app.config["PROMO_ADMIN_AUTHORIZE"]
    if authorize is not None:
        return _host_decides(authorize)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    admin_id = session.get(SESSION_KEY)
    name = None
    if isinstance(admin_id, int):
        begin_read_only(db_session())
        name = db_session().scalar(select(AdminUser.name).where(AdminUser.id == admin_id))
        # End the transaction now: an upload's body is still to be read, and the view
        # decides how its own transaction begins.
        db_session().rollback()
    if name is None:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("promo_page.sign_in", next=_here()))
    g.promo_admin = SignedIn(admin_id, name)
    return None


def _host_decides(authorize):
    """Embedded: the host's callable says yes or no; the page's own sign-in is not used."""
    if request.endpoint == "promo_page.sign_in":
        abort(404)
    if request.endpoint == "promo_page.static" or authorize():
        return None
    login_url = current_app.config["PROMO_ADMIN_LOGIN_URL"]
    if login_url:
        separator = "&" if "?" in login_url else "?"
        return redirect(f"{login_url}{separator}{urlencode({'next': _here()})}")
    abort(403)


def _here() -> str:
    """Return the path and query of this request, to come back to after signing in."""
    return request.full_path.rstrip("?")


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the page's start."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("promo_page.index")


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
