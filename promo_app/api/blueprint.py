"""The API blueprint, its parameter loading and its error handlers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from marshmallow import Schema, ValidationError
from sqlalchemy.engine import Connection
from werkzeug.exceptions import HTTPException

from ..db.binding import promo_connection
from ..errors import (
    IncorrectRequest,
    InternalError,
    NotAllowed,
    NotFound,
    PromoError,
    RequestTooLarge,
)
from ..state import current_promo
from ..tokens import authenticate
from .envelope import envelope
from .params import flatten_errors, limit_body, read_params

bp = Blueprint("promo_api", __name__, url_prefix="/api/v1.1")

HTTP_ERRORS: dict[int, type[PromoError]] = {
    404: NotFound,
    405: NotAllowed,
    413: RequestTooLarge,
}


def session():
    """Return the session of the Flask-SQLAlchemy instance the extension was given."""
    return current_promo().db.session


def load(schema: Schema, connection: Connection | None = None) -> dict[str, Any]:
    """Read the request's parameters, check its token, then validate them with `schema`.

    The token is checked before anything else, so a caller without one learns nothing
    about the parameters a verb takes. Returns the parameters with `api_token` added.
    The token is read on `connection`, or by default in the session's transaction.
    """
    params = read_params()
    secret = params.get("token")
    if secret is not None and not isinstance(secret, str):
        raise IncorrectRequest({"token": ["Not a valid string."]})
    token = authenticate(connection or promo_connection(session()), secret)
    try:
        args = schema.load(params)
    except ValidationError as error:
        raise IncorrectRequest(flatten_errors(error.messages)) from None
    args["api_token"] = token
    return args


def error_response(error: PromoError):
    """Turn a domain error into the envelope; nothing of the failed call is kept."""
    session().rollback()
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
    return error_response(api_error_for(error))


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception):
    current_app.logger.exception("Unexpected error in the promo code API")
    return error_response(InternalError())


def api_error_for(error: HTTPException) -> PromoError:
    """Map an HTTP error raised by Flask or Werkzeug to the API's own error."""
    return HTTP_ERRORS.get(error.code or 500, InternalError)()
