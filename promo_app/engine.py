"""The promo engine: its own bind, and SQLite tuned so that concurrent writers wait, not fail."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from .models import BIND_KEY, PromoCode

READ_ONLY = "promo_read_only"


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
            # Flask-SQLAlchemy makes its own (instance-relative SQLite paths, pools).
            options: dict[str, Any] = {"url": app.config["PROMO_DATABASE_URL"]}
            db._apply_driver_defaults(options, app)
            engines[BIND_KEY] = db._make_engine(BIND_KEY, options, app)
        return engines[BIND_KEY]


def tune_sqlite(engine: Engine, busy_timeout_ms: int, write_lock: str = "transaction") -> None:
    """Set WAL, synchronous=NORMAL, foreign keys and a busy timeout on every connection,
    and start every transaction with BEGIN IMMEDIATE (a plain BEGIN for begin_read_only).

    Under WAL a deferred transaction that reads and then writes fails at once with
    "database is locked" when another process wrote in between; the busy timeout does
    not help it. BEGIN IMMEDIATE takes the write lock first, waiting up to the timeout.
    With `write_lock` "first-write" it is said before the first write instead (below).
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_promo_tuned", False):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    if write_lock == "first-write":
        _begin_at_first_write(engine)
    else:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine._promo_tuned = True


def _begin_at_first_write(engine: Engine) -> None:
    """PROMO_SQLITE_WRITE_LOCK = "first-write": say BEGIN IMMEDIATE right before the
    transaction's first statement that may write, not at its start.

    Reads before it run each on their own (each sees the latest commit, as under
    PostgreSQL's READ COMMITTED); everything from the first write to the commit runs
    inside BEGIN IMMEDIATE, so the read-then-write race of a deferred transaction cannot
    happen. The write lock is then held for the database's own work only: not while a
    request authenticates and looks things up, nor while an import prepares its rows.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.connection.driver_connection.in_transaction:
            return
        if not connection.in_transaction():
            return  # an AUTOCOMMIT connection
        if connection.get_execution_options().get(READ_ONLY):
            cursor.execute("BEGIN")
        elif statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
            # On the statement's own cursor, inside SQLAlchemy's error handling: a busy
            # timeout still raises sqlalchemy.exc.OperationalError.
            cursor.execute("BEGIN IMMEDIATE")
