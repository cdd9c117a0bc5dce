"""How the extension fits a host's other extensions, with no step the host can forget:
its CSRFProtect leaves the API alone, and its Flask-Migrate (or plain Alembic) leaves the
promo tables alone.

The API is authenticated by tokens and called by servers: a CSRF token means nothing to
it. The promo tables sit in the host's database but not in its metadata, so the host's
autogenerate would propose dropping them; they have migrations of their own
(`flask promo db upgrade`, see docs/migrations.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, appcontext_pushed

PROMO_TABLE_PREFIX = "promo_"

IncludeObject = Callable[[Any, Any, str, bool, Any], bool]


def include_object(object_: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object` hook for a host's env.py: leave every promo table (its
    columns, indexes and constraints with it) out of the host's autogenerate, so that the
    host's revisions neither create nor drop them."""
    return not (type_ == "table" and str(name).startswith(PROMO_TABLE_PREFIX))


def leaving_promo_tables_out(host_filter: IncludeObject | None) -> IncludeObject:
    """Return an `include_object` hook that leaves the promo tables out, then asks the
    host's own hook, if it has one."""
    if host_filter is None or getattr(host_filter, "leaves_promo_tables_out", False):
        return host_filter or include_object

    def include(object_: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
        return include_object(object_, name, type_, reflected, compare_to) and host_filter(
            object_, name, type_, reflected, compare_to
        )

    include.leaves_promo_tables_out = True  # type: ignore[attr-defined]
    return include


include_object.leaves_promo_tables_out = True  # type: ignore[attr-defined]


def install(app: Flask, api: Blueprint) -> None:
    """Exempt the API from the app's CSRFProtect and keep its Flask-Migrate off the promo
    tables, whether the host sets them up before the extension or after it."""
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(api)
    else:
        # A CSRFProtect set up later checks in a before_request function added after
        # this one: this one runs first and exempts the API in time. Nothing can be set
        # up once the app has served a request, so after the first one it only returns.
        app.before_request(_exempting_from_later_csrf(app, api))
    if not _filter_host_migrations(app) and "flask_migrate" in sys.modules:
        # Flask-Migrate reads its configure_args when a `flask db` command runs, inside
        # an application context: the first context after it is set up adds the filter.
        appcontext_pushed.connect(_on_app_context, sender=app)


def _exempting_from_later_csrf(app: Flask, api: Blueprint) -> Callable[[], None]:
    done = False

    def exempt_promo_api_from_csrf() -> None:
        nonlocal done
        if done:
            return
        csrf = app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(api)
        done = True

    return exempt_promo_api_from_csrf


def _on_app_context(app: Flask, **_extra: Any) -> None:
    if _filter_host_migrations(app):
        appcontext_pushed.disconnect(_on_app_context, sender=app)


def _filter_host_migrations(app: Flask) -> bool:
    """Add our filter to the app's Flask-Migrate, if it has one; say whether it has."""
    migrate = app.extensions.get("migrate")
    if migrate is None:
        return False
    options = migrate.configure_args
    options["include_object"] = leaving_promo_tables_out(options.get("include_object"))
    return True
