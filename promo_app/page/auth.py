"""Who may see the page: its own sign-in, or the host's callable when embedded."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from ..db.binding import reading
from ..models import AdminUser
from ..state import promo_session
from .blueprint import bp

# The signed-in admin's id in Flask's session; prefixed so that it never meets a host's keys.
SESSION_KEY = "promo_admin_id"

OPEN_ENDPOINTS = {"promo_page.static", "promo_page.sign_in"}


@dataclass(frozen=True)
class SignedIn:
    """The admin user of this request."""

    id: int
    name: str


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
        # Ended at once: an upload's body is still to be read, and the view decides how
        # its own transaction begins.
        with reading(promo_session()):
            name = promo_session().scalar(select(AdminUser.name).where(AdminUser.id == admin_id))
    if name is None:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("promo_page.sign_in", next=_here()))
    g.promo_admin = SignedIn(admin_id, name)
    return None


def _host_decides(authorize):
    """Embedded: the host's callable lets a visitor in by returning exactly True (a truthy
    response object refuses); the page's own sign-in is not used."""
    if request.endpoint == "promo_page.sign_in":
        abort(404)
    if request.endpoint == "promo_page.static" or authorize() is True:
        return None
    refuse = current_app.config["PROMO_ADMIN_REFUSE"]
    if refuse is not None:
        response = refuse()
        if response is None:
            abort(403)
        return response
    if _signed_in_to_host() is True:
        abort(403, description=REFUSED_SIGNED_IN)
    login_url = current_app.config["PROMO_ADMIN_LOGIN_URL"]
    if login_url:
        separator = "&" if "?" in login_url else "?"
        return redirect(f"{login_url}{separator}{urlencode({'next': _here()})}")
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None:
        return login_manager.unauthorized()
    abort(403)


REFUSED_SIGNED_IN = "You are signed in, but not allowed to use the promo codes page."


def _signed_in_to_host() -> bool | None:
    """Say whether the visitor is signed in to the host, where its Flask-Login can tell;
    None where the host has no Flask-Login."""
    if getattr(current_app, "login_manager", None) is None:
        return None
    from flask_login import current_user

    return bool(current_user.is_authenticated)


def _here() -> str:
    """Return the path and query of this request, to come back to after signing in."""
    return request.full_path.rstrip("?")


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the page's start."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("promo_page.index")
