"""`GET {prefix}/healthz`: whether this server can serve, for a load balancer or a monitor.

No token, no session, one connection of the pool and a few catalogue reads: cheap enough to
be called every second. 200 when every check passes, 503 otherwise, in JSON either way.
"""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from .models import PromoModel
from .state import current_promo

bp = Blueprint("promo_health", __name__)


# Every (table, column) of the promo tables, in one statement per dialect.
_COLUMNS = {
    "sqlite": "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
    " WHERE m.type = 'table' AND m.name LIKE 'promo\\_%' ESCAPE '\\'",
    "postgresql": "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name LIKE 'promo\\_%'",
}


def _present_columns(connection: Connection) -> set[tuple[str, str]]:
    query = _COLUMNS.get(connection.dialect.name)
    if query is not None:
        return {(table, column) for table, column in connection.execute(text(query))}
    inspector = inspect(connection)
    return {
        (table, column["name"])
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
    }


def schema_problems(connection: Connection) -> list[str]:
    """Name the promo tables and columns the models have and the database lacks."""
    present = _present_columns(connection)
    tables = {table for table, _column in present}
    problems = []
    for name, table in PromoModel.metadata.tables.items():
        if name not in tables:
            problems.append(f"table {name} is missing")
            continue
        problems.extend(
            f"column {name}.{column.name} is missing"
            for column in table.columns
            if (name, column.name) not in present
        )
    return problems


def write_problem(connection: Connection) -> str | None:
    """Say why the database cannot be written, or None, without writing anything."""
    if connection.dialect.name == "sqlite":
        path = connection.engine.url.database
        if not path or path == ":memory:":
            return None
        # SQLite writes the file, and in WAL mode makes -wal and -shm beside it.
        for where in (path, os.path.dirname(os.path.abspath(path))):
            if not os.access(where, os.W_OK):
                return f"{where} is not writable"
        return None
    if connection.dialect.name == "postgresql":
        recovery, read_only = connection.execute(
            text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
        ).one()
        if recovery:
            return "the server is a standby (in recovery)"
        if read_only == "on":
            return "transactions are read-only"
    return None


def check_health() -> tuple[dict[str, str], bool]:
    """Check the promo database: reachable, schema in place, writable."""
    checks = {"database": "ok", "schema": "ok", "writable": "ok"}
    try:
        with current_promo().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            problems = schema_problems(connection)
            if problems:
                checks["schema"] = "; ".join(problems)
            checks["writable"] = write_problem(connection) or "ok"
    except SQLAlchemyError as error:
        # The reason goes to the log only: the endpoint needs no token, so it names no host.
        current_app.logger.warning("health check: database unreachable: %s", error)
        checks = {"database": "unreachable", "schema": "unknown", "writable": "unknown"}
    return checks, all(value == "ok" for value in checks.values())


@bp.get("/healthz")
def healthz():
    checks, healthy = check_health()
    response = jsonify({"status": "ok" if healthy else "unavailable", "checks": checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
