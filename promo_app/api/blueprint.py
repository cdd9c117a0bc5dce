"""The API blueprint and its error handlers: every error of a call answers in the envelope."""

from __future__ import annotations

from flask import Blueprint, current_app
from werkzeug.exceptions import HTTPException

from ..errors import (
    InternalError,
    NotAllowed,
    NotFound,
    PromoError,
    RequestTooLarge,
)
from ..state import promo_session
from .envelope import envelope
from .params import limit_body

bp = Blueprint("promo_api", __name__, url_prefix="/api/v1.1")

HTTP_ERRORS: dict[int, type[PromoError]] = {
    404: NotFound,
    405: NotAllowed,
    413: RequestTooLarge,
}


def error_response(error: PromoError):
    """Turn a domain error into the envelope; nothing of the failed call is kept."""
    promo_session().rollback()
    extra = {"errors": error.errors} if error.errors else {}
    return envelope(None, error.error, error.error_text, **extra)


@bp.before_request
def _limit_body() -> None:
    limit_body()


@bp.errorhandler(PromoError)
def _promo_error(error: PromoError):
    return error_response(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return http_error_response(error)


def http_error_response(error: HTTPException):
    """Answer an HTTP error of Flask or Werkzeug in the envelope, keeping its `Allow`."""
    response = error_response(api_error_for(error))
    allow = dict(error.get_headers()).get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception):
    current_app.logger.exception("Unexpected error in the promo code API")
    return error_response(InternalError())


def api_error_for(error: HTTPException) -> PromoError:
    """Map an HTTP error raised by Flask or Werkzeug to the API's own error."""
    return HTTP_ERRORS.get(error.code or 500, InternalError)()
