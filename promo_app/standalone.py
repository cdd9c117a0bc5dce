"""What only the standalone app needs: cookie sessions that API calls never pay for, the
instance folder's secret key, settings from the environment, and routing errors under the
API's path answered in the envelope."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from flask import Flask, Request, current_app, redirect, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException


class _SessionsSignedByOneSerializer(SecureCookieSessionInterface):
    """Flask's cookie sessions, with the signing serializer made once per secret key.

    Flask makes it anew on every request, API calls included, which need no session:
    a tenth of the time of a bare Flask view. The key and its fallbacks are the cache key,
    so a changed key still takes effect.
    """

    _keys: tuple[Any, ...] | None = None
    _serializer: URLSafeTimedSerializer | None = None

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Most requests (every API call) carry no cookie at all: nothing to read or verify.
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer


def _home():
    """Send a visitor of the standalone app to the merchant's page."""
    return redirect(url_for("promo_page.index"))


def _env_value(value: str) -> Any:
    """Read a PROMO_* variable: JSON where it parses (numbers, true, false), else text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _instance_secret(app: Flask) -> str:
    """Return a secret key kept in the instance folder, made on first use.

    Written to a temporary file and linked into place, so that several workers starting
    at once agree on one key and none reads a half-written file.
    """
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    with open(path) as file:
        return file.read().strip()


def _api_http_error(error: HTTPException):
    """Answer routing errors under the API's path (unknown verb, GET) with the envelope."""
    from .api.blueprint import http_error_response

    api_path = current_app.config["PROMO_URL_PREFIX"].rstrip("/") + "/api/"
    if request.path.startswith(api_path):
        return http_error_response(error)
    return error
