"""A self-hosted promo code service, compatible with `POST /api/v1.1/promocodes/attach`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .extension import PromoCodes
from .standalone import (
    _api_http_error,
    _env_value,
    _home,
    _instance_secret,
    _SessionsSignedByOneSerializer,
)

__all__ = ["PromoCodes", "__version__", "create_app"]

# The release (pyproject.toml reads it; CHANGELOG.md says what each one changed).
__version__ = "0.2.0"

DEFAULT_CONFIG = {
    "DATABASE_URL": "sqlite:///promo.db",  # relative SQLite paths live in the instance folder
    # The page's sign-in cookie is not sent along with requests that other sites start.
    "SESSION_COOKIE_SAMESITE": "Lax",
    # How many proxies (nginx: 1) stand in front and set X-Forwarded-For/-Proto/-Host; 0: none,
    # and those headers are ignored (a client could forge them).
    "PROMO_PROXY_FIX": 0,
}

# Settings read from the environment besides PROMO_*: as text, or parsed as JSON.
ENV_TEXT = ("DATABASE_URL", "SECRET_KEY")
ENV_JSON = ("SECRET_KEY_FALLBACKS", "SESSION_COOKIE_SECURE")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the standalone promo code service: one host of the `PromoCodes` extension."""
    # PROMO_INSTANCE_PATH: where the database, the secret key and config.py live
    # (default: instance/ beside the package; a server's state directory in production).
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("PROMO_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(DEFAULT_CONFIG)
    if test_config is None:
        # A test's app is what the test says: not the developer's instance or environment.
        app.config.from_pyfile("config.py", silent=True)
        for name in ENV_TEXT:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        if os.environ.get("SESSION_COOKIE_SECURE"):
            # Behind TLS: the page's sign-in cookie is never sent over plain HTTP.
            app.config["SESSION_COOKIE_SECURE"] = _env_value(os.environ["SESSION_COOKIE_SECURE"])
        for name, value in os.environ.items():
            if name.startswith("PROMO_") or (name in ENV_JSON and value):
                app.config[name] = _env_value(value)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["DATABASE_URL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    app.session_interface = _SessionsSignedByOneSerializer()
    PromoCodes(SQLAlchemy()).init_app(app)
    app.register_error_handler(HTTPException, _api_http_error)
    app.add_url_rule("/", "home", _home)
    proxies = int(app.config["PROMO_PROXY_FIX"] or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app
