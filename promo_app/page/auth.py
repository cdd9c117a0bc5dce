"""Who may see the page: its own sign-in, or the host's callable when embedded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

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

from .. import events
from ..db.binding import reading
from ..models import AdminUser
from ..state import promo_session
from .blueprint import bp

# The signed-in admin in Flask's session, [id, session nonce]; prefixed so that it never meets
# a host's keys. A cookie without the admin's current nonce is signed out.
SESSION_KEY = "promo_admin"

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
    admin_id, nonce = _session_admin()
    name = None
    if admin_id is not None:
        # Ended at once: an upload's body is still to be read, and the view decides how
        # its own transaction begins.
        with reading(promo_session()):
            name = promo_session().scalar(
                select(AdminUser.name).where(
                    AdminUser.id == admin_id, AdminUser.session_nonce == nonce
                )
            )
    if name is None:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("promo_page.sign_in", next=_here()))
    g.promo_admin = SignedIn(admin_id, name)
    return None


def actor() -> str:
    """Who acts on the page, for the history: the signed-in admin, or "page" when the
    host's own sign-in decides."""
    admin = g.get("promo_admin")
    return admin.name if admin is not None else events.PAGE


def _session_admin() -> tuple[int | None, str | None]:
    value = session.get(SESSION_KEY)
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return value[0], value[1]
    return None, None


def start_session(admin_id: int, nonce: str) -> None:
    """Sign this browser in as the admin `admin_id`, whose sessions carry `nonce`."""
    session.pop(SESSION_KEY, None)
    session[SESSION_KEY] = [admin_id, nonce]


@bp.after_request
def _page_headers(response):
    """Keep the page out of other sites' frames and scripts, and its files from sniffing."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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


_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))


def safe_next(target: str | None) -> str:
    """Return `target` if a browser would read it as a path on this site, else the page's
    start.

    Read as a browser reads a URL (the WHATWG URL standard): C0 controls and spaces at
    either end are dropped, tabs and newlines anywhere are removed, and a backslash is a
    slash; so ``/%09/evil.example`` (a tab) is ``//evil.example``, another site. A target
    that a browser would read otherwise than it is written is refused, as is one with a
    scheme, a host or any control character.
    """
    if target:
        read = _TAB_OR_NEWLINE.sub("", target.strip(_C0_OR_SPACE)).replace("\\", "/")
        parts = urlsplit(read)
        if (
            read == target
            and read.startswith("/")
            and not read.startswith("//")
            and not parts.scheme
            and not parts.netloc
            and read.isprintable()
        ):
            return target
    return url_for("promo_page.index")
