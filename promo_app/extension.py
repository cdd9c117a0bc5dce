"""`PromoCodes`: the Flask extension that serves the promo code API in a host app."""

from __future__ import annotations

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import Engine

from . import compat, events, host, host_extensions, rate_limits, webhook
from .db import sqlite_lock
from .db.binding import database_url, ensure_promo_engine, prepare_nothing_behind_pgbouncer
from .db.migrate import UpgradeReport, upgrade
from .host import HostProfiles, ProfileSpec
from .models import BIND_KEY
from .state import DEFAULTS


class PromoCodes:
    """The promo code service as an extension: ``PromoCodes(db).init_app(app)``.

    Give it the host's Flask-SQLAlchemy ``db``; without one it makes its own. The promo
    tables live on the bind ``promo``, which defaults to the host's database, so that
    the tuning that claiming codes needs applies to the promo engine alone.
    """

    def __init__(self, db: SQLAlchemy | None = None, app: Flask | None = None) -> None:
        self.db = db if db is not None else SQLAlchemy()
        # The Python API (promo_app/host.py): promo.profiles.upsert/get/delete, promo.attach.
        self.profiles = HostProfiles(self)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        if "promo" in app.extensions:
            raise RuntimeError("PromoCodes is registered on this app already.")
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        deprecation = compat.check_setting(app.config)
        if deprecation:
            app.logger.warning(deprecation)
        url = (
            app.config["PROMO_DATABASE_URL"]
            or app.config.get("SQLALCHEMY_BINDS", {}).get(BIND_KEY)
            or app.config.get("SQLALCHEMY_DATABASE_URI")
        )
        if not url:
            raise RuntimeError("Set SQLALCHEMY_DATABASE_URI or PROMO_DATABASE_URL.")
        app.config["PROMO_DATABASE_URL"] = url = database_url(url)
        if "sqlalchemy" not in app.extensions:
            # We initialise this db: its default engine needs the driver spelled out too
            # (SQLAlchemy knows no "postgres://").
            if app.config.get("SQLALCHEMY_DATABASE_URI"):
                default_url = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
                app.config["SQLALCHEMY_DATABASE_URI"] = default_url
            # The promo bind takes the app's SQLALCHEMY_ENGINE_OPTIONS (a pool's size) as the
            # default bind does: Flask-SQLAlchemy gives them to the default bind alone.
            options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
            bind = {**options, "url": url} if options else url
            app.config.setdefault("SQLALCHEMY_BINDS", {}).setdefault(BIND_KEY, bind)
            self.db.init_app(app)
        engine = ensure_promo_engine(self.db, app)
        sqlite_lock.install(engine, app.config["PROMO_SQLITE_BUSY_TIMEOUT_MS"])
        prepare_nothing_behind_pgbouncer(engine, bool(app.config["PROMO_PGBOUNCER"]))
        rate_limits.install(app)
        webhook.install(app, engine)
        events.install(engine, app.config)
        app.extensions["promo"] = self

        from . import cli_backup, cli_codes, cli_events, cli_fields, cli_inventory  # noqa: F401
        from .api import bp as api_bp
        from .cli import promo_cli
        from .health import bp as health_bp
        from .page import bp as page_bp

        prefix = app.config["PROMO_URL_PREFIX"].rstrip("/")
        app.register_blueprint(api_bp, url_prefix=f"{prefix}/api/v1.1")
        app.register_blueprint(page_bp, url_prefix=f"{prefix}/admin")
        app.register_blueprint(health_bp, url_prefix=prefix or None)
        app.cli.add_command(promo_cli)
        host_extensions.install(app, api_bp)

    def attach(
        self, db_id: int, loyalty_id: int, profile: ProfileSpec, code: str | None = None
    ) -> str:
        """Attach `code`, or the oldest free code of program `loyalty_id`, to `profile` (a
        profile_id, what upsert returned, or one identifier such as {"user_id": 42}) in one
        committed transaction; return the code. Raises the errors the API answers with."""
        return host.attach(self, db_id, loyalty_id, profile, code)

    @property
    def engine(self) -> Engine:
        """The promo engine of the current app."""
        return self.db.engines[BIND_KEY]

    def create_all(self) -> UpgradeReport:
        """Bring the promo tables of the current app's database to the head revision of
        their migrations, creating them in an empty database and adopting those that
        promo_app 0.1.0 made (docs/migrations.md). The same as `flask promo init-db`."""
        return upgrade(self.engine)
