"""The API blueprint and its error handlers: every error of a call answers in the envelope."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from ..errors import (
    AccessDenied,
    HttpError,
    IncorrectRequest,
    InternalError,
    NotAllowed,
    NotFound,
    PromoError,
    RequestTooLarge,
    TooManyRequests,
    UnsupportedContentType,
)
from ..state import promo_session
from .envelope import envelope
from .params import limit_body

bp = Blueprint("promo_api", __name__, url_prefix="/api/v1.1")

# HTTP statuses that SPEC.md's table has one text for; others keep HTTP's own phrase.
HTTP_ERRORS: dict[int, type[PromoError]] = {
    400: IncorrectRequest,
    403: AccessDenied,
    404: NotFound,
    405: NotAllowed,
    413: RequestTooLarge,
    415: UnsupportedContentType,
    429: TooManyRequests,
    500: InternalError,
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
    answer = api_error_for(error)
    if not isinstance(answer, RequestTooLarge):
        # Raised around the verb's view: by the host (its CSRFProtect, its own rules), an
        # extension or Werkzeug. Logged, since the caller sees only the envelope.
        current_app.logger.warning(
            "The promo API answered %s %s to %s %s: %s",
            answer.error,
            answer.error_text,
            request.method,
            request.path,
            error,
        )
    return http_error_response(error, answer)


def http_error_response(error: HTTPException, answer: PromoError | None = None):
    """Answer an HTTP error of Flask or Werkzeug in the envelope, keeping its `Allow`."""
    response = error_response(answer or api_error_for(error))
    allow = dict(error.get_headers()).get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception):
    current_app.logger.exception("Unexpected error in the promo code API")
    return error_response(InternalError())


def api_error_for(error: HTTPException) -> PromoError:
    """Map an HTTP error raised by Flask, Werkzeug or the host to the API's own error of the
    same status: SPEC.md's text where its table has one, else HTTP's phrase (a 400 stays a
    400)."""
    status = error.code or 500
    known = HTTP_ERRORS.get(status)
    return known() if known is not None else HttpError(status, error.name)
