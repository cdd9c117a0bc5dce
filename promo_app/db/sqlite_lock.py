"""SQLite tuned so that concurrent writers wait, not fail: WAL, a busy timeout, and BEGIN
IMMEDIATE before a transaction's first write, polled every millisecond at most."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

try:
    import fcntl
except ImportError:  # Windows: waiting writers go unseen
    fcntl = None

from ..models import PromoCode
from .direct import before_direct_statements
from .in_use import mark_in_use

READ_ONLY = "promo_read_only"


def install(engine: Engine, busy_timeout_ms: int) -> None:
    """Tune a SQLite engine (nothing else is touched) so that concurrent writers wait, not
    fail: WAL, synchronous=NORMAL, foreign keys and a busy timeout on every connection,
    and BEGIN IMMEDIATE right before a transaction's first write.

    Under WAL a deferred transaction that reads and then writes fails at once with
    "database is locked" when another process wrote in between; the busy timeout does
    not help it. BEGIN IMMEDIATE takes the write lock first, waiting up to the timeout.
    Installing twice on one engine does nothing more.
    """
    if engine.dialect.name != "sqlite" or engine in _WAITING:
        return
    timeout = busy_timeout_ms / 1000
    mark_in_use(engine, engine.url.database)
    waiting = _WAITING[engine] = WaitingWriters.for_database(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # A checkpoint every 10,000 WAL pages, not SQLite's 1,000: each costs two fsyncs
        # whatever it copies, and an attach writes about ten pages (bench/RESULTS.md). The
        # WAL is cut back to 64 MiB after a checkpoint if a bulk write made it larger.
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
        cursor.execute("PRAGMA journal_size_limit = 67108864")
        cursor.close()

    _begin_at_first_write(engine, timeout, busy_timeout_ms, waiting)


def _begin_at_first_write(
    engine: Engine, timeout: float, busy_timeout_ms: int, waiting: WaitingWriters | None
) -> None:
    """Say BEGIN IMMEDIATE right before the transaction's first statement that may write,
    not at its start.

    Reads before it run each on their own (each sees the latest commit, as under
    PostgreSQL's READ COMMITTED); everything from the first write to the commit runs
    inside BEGIN IMMEDIATE, so the read-then-write race of a deferred transaction cannot
    happen. The write lock is then held for the database's own work only: not while a
    request authenticates and looks things up, nor while an import prepares its rows.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        _take_write_lock_if_writing(connection, cursor, statement)

    def _take_write_lock_if_writing(connection: Any, cursor: Any, statement: str) -> None:
        if connection.connection.driver_connection.in_transaction:
            return
        if not connection.in_transaction():
            return  # an AUTOCOMMIT connection
        if connection.get_execution_options().get(READ_ONLY):
            cursor.execute("BEGIN")
        elif statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
            # On the statement's own cursor, inside SQLAlchemy's error handling: a busy
            # timeout still raises sqlalchemy.exc.OperationalError.
            begin_immediate(cursor, timeout, busy_timeout_ms, waiting)

    before_direct_statements(engine, _take_write_lock_if_writing)


# How long a writer sleeps between tries for the write lock: short at first, then at most
# 1 ms. SQLite's own busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so
# a writer that came while the lock was held could sleep on for up to 100 ms after it was
# free, and an import committing batch after batch could take it back every time first.
_LOCK_POLL_DELAYS = (0.0001, 0.0002, 0.0005)
_LOCK_POLL_MAX_DELAY = 0.001


def begin_immediate(
    cursor: sqlite3.Cursor,
    timeout: float,
    busy_timeout_ms: int,
    waiting: WaitingWriters | None = None,
) -> None:
    """Say BEGIN IMMEDIATE on `cursor`, trying again every millisecond or less while
    another connection holds the write lock, for up to `timeout` seconds.

    SQLite's busy handler is off while this tries (busy_timeout 0) and on again after,
    for the rare other statement that may find the database busy. While it waits, it
    says so through `waiting`, so that a long writer (an import) can let the lock go.
    """
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        with ExitStack() as while_waiting:
            deadline = None
            tries = 0
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                        raise
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + timeout
                        if waiting is not None:
                            while_waiting.enter_context(waiting.wait())
                    if now >= deadline:
                        raise
                delay = (
                    _LOCK_POLL_DELAYS[tries]
                    if tries < len(_LOCK_POLL_DELAYS)
                    else _LOCK_POLL_MAX_DELAY
                )
                tries += 1
                time.sleep(min(delay, deadline - now))
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


# Engines of SQLite files and how their waiting writers say so.
_WAITING: WeakKeyDictionary[Engine, WaitingWriters | None] = WeakKeyDictionary()


def holds_sqlite_write_lock(connection: Connection) -> bool:
    """Say whether `connection` is on SQLite and its transaction holds the write lock, so
    that no other connection can write until it ends.

    A transaction of the promo engine says BEGIN IMMEDIATE (the lock) before its first
    write, and a plain BEGIN only when begun read-only: once the driver is
    in a transaction that was not begun read-only, the lock is held.
    """
    if connection.dialect.name != "sqlite" or connection.get_execution_options().get(READ_ONLY):
        return False
    return connection.connection.driver_connection.in_transaction


def writers_waiting(session: Session | scoped_session) -> bool:
    """Say whether a writer (in another process) waits for the SQLite write lock that the
    session's promo transaction holds; False on PostgreSQL, which locks rows."""
    waiting = _WAITING.get(session.get_bind(mapper=PromoCode))
    return waiting is not None and waiting.anyone_waiting()


class WaitingWriters:
    """A side file next to a SQLite database (`<file>-promo-wait`) on which each writer
    waiting for the write lock holds a shared lock (fcntl) while it waits.

    A writer that holds the lock for long, an import, tests for such a lock between its
    inserts and commits early when it finds one: SQLite itself tells a writer nothing of
    who waits. POSIX locks belong to a process, so a waiter in the importer's own process
    (an upload job runs in a thread of a server process) is counted in the process
    instead; a thread lock keeps the process's fcntl calls apart, since an unlock by one
    thread would let go of the shared lock another holds.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._descriptor: int | None = None
        self._pid = 0
        self._guard = threading.Lock()
        self._here = 0  # writers of this process waiting now

    @classmethod
    def for_database(cls, database: str | None) -> WaitingWriters | None:
        if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
            return None
        return cls(f"{database}-promo-wait")

    def _file(self) -> int:
        if self._descriptor is None or self._pid != os.getpid():  # a forked worker opens its own
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            weakref.finalize(self, os.close, self._descriptor)  # with its engine
        return self._descriptor

    @contextmanager
    def wait(self) -> Iterator[None]:
        """Hold a shared lock on the side file for as long as the caller waits."""
        with self._guard:
            self._here += 1
            if self._here == 1:
                # No side file (a read-only folder): other processes do not see us wait.
                with suppress(OSError):
                    fcntl.lockf(self._file(), fcntl.LOCK_SH)
        try:
            yield
        finally:
            with self._guard:
                self._here -= 1
                if self._here == 0:
                    with suppress(OSError):
                        fcntl.lockf(self._file(), fcntl.LOCK_UN)

    def anyone_waiting(self) -> bool:
        with self._guard:
            if self._here:
                return True
            try:
                descriptor = self._file()
                fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            except OSError as error:
                return error.errno in (errno.EACCES, errno.EAGAIN)
            fcntl.lockf(descriptor, fcntl.LOCK_UN)
            return False
