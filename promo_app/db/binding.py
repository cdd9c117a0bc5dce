"""The promo bind: its engine on the host's Flask-SQLAlchemy, and the session's connection to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from ..models import BIND_KEY, PromoCode
from .sqlite_lock import READ_ONLY


def begin_read_only(session: Session | scoped_session) -> None:
    """Start the session's promo transaction as a read that takes no write lock.

    It acts only at the start of a transaction: in a session that has begun one already,
    the transaction stays as it began. One begun this way must not write (on SQLite it
    could fail with "database is locked" if it did).
    Its reads are one snapshot: SQLite's deferred transaction is one by itself, and on
    PostgreSQL it runs REPEATABLE READ (its default, READ COMMITTED, would let each
    statement see the commits made since the transaction began).
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        return
    options: dict[str, Any] = {READ_ONLY: True}
    if session.get_bind(mapper=PromoCode).dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    session.connection(bind_arguments={"mapper": PromoCode}, execution_options=options)


@contextmanager
def reading(session: Session | scoped_session) -> Iterator[None]:
    """Run the block in one read-only transaction of the session's promo bind, ended after.

    Its reads are one snapshot that takes no write lock (see `begin_read_only`); nothing
    may be written in it. Objects read in it stay usable after, as plain values or loaded
    again on access.
    """
    begin_read_only(session)
    try:
        yield
    finally:
        session.rollback()


def promo_connection(session: Session | scoped_session) -> Connection:
    """Return the connection of the session's promo transaction, beginning it if need be.

    The API's hot paths run prebuilt Core statements on it: the same transaction as the
    session's, without the ORM's per-statement work.
    """
    return session.connection(bind_arguments={"mapper": PromoCode})


def database_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_promo_engine(db: SQLAlchemy, app: Flask) -> Engine:
    """Return the engine of the promo bind on `app`, creating it if the host made none."""
    with app.app_context():
        engines = db.engines
        if BIND_KEY not in engines:
            # The host initialised its db before us without a promo bind: add one the way
            # Flask-SQLAlchemy makes its own (instance-relative SQLite paths, pools). Its
            # private API, used here only: pinned flask-sqlalchemy>=3.1,<3.2 (pyproject.toml).
            options: dict[str, Any] = {"url": app.config["PROMO_DATABASE_URL"]}
            db._apply_driver_defaults(options, app)
            engines[BIND_KEY] = db._make_engine(BIND_KEY, options, app)
        return engines[BIND_KEY]


def prepare_nothing_behind_pgbouncer(engine: Engine, behind_pgbouncer: bool) -> None:
    """Behind PgBouncer in transaction pooling mode, have psycopg prepare no statement.

    psycopg 3 prepares a statement on the server once a connection has run it five times;
    the prepared statement lives on that server connection only, and PgBouncer (before
    1.21) gives the next transaction whichever server connection is free."""
    if behind_pgbouncer and engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _prepare_nothing)


def _prepare_nothing(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.prepare_threshold = None
