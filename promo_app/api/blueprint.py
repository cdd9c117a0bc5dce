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
    TooManyRequests,
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
    response = envelope(None, error.error, error.error_text, **extra)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.before_request
def _limit_body() -> None:
    limit_body()


@bp.errorhandler(PromoError)
def _promo_error(error: PromoError):
    return error_response(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_response(api_error_for(error))


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception):
    current_app.logger.exception("Unexpected error in the promo code API")
    return error_response(InternalError())


def api_error_for(error: HTTPException) -> PromoError:
    """Map an HTTP error raised by Flask or Werkzeug to the API's own error."""
    return HTTP_ERRORS.get(error.code or 500, InternalError)()
