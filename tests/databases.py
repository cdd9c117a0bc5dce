"""The databases tests start from: templates built once per run, and a copy of one per test.

A template holds the promo tables and, as a test asks, the shop (the `shop` fixture) and the
page's admin user (the `admin` fixture). A test gets a copy of its own: on SQLite a copy of
the template's file, on PostgreSQL a database made by CREATE DATABASE ... TEMPLATE.

On PostgreSQL a working copy is put back to its template's state after each test and used
again (see `Templates`).
"""

from __future__ import annotations

import gc
import secrets
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from promo_app import create_app
from promo_app.admins import set_admin_user
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import CustomField, Database, LoyaltyProgram, PromoModel
from promo_app.profiles import add_profile
from promo_app.tokens import create_token
from tests.helpers import ADMIN, PASSWORD


@dataclass
class Shop:
    """A database with profiles, programs with codes, and tokens, as a shop would have."""

    db_id: int
    other_db_id: int
    personal_id: int
    universal_id: int
    empty_id: int
    token: str
    limited_token: str
    profiles: dict[str, str]


def build_shop(session: Session) -> Shop:
    """Fill an empty promo database with the shop; commit."""
    database = Database(name="Shop", custom_fields=[CustomField(name="card")])
    other = Database(name="Other shop")
    # The shop's programs serve its database (a token limited to `other` reaches none).
    personal = LoyaltyProgram(name="Welcome", universal=False, database=database)
    universal = LoyaltyProgram(name="Summer sale", universal=True, database=database)
    empty = LoyaltyProgram(name="Empty", universal=False, database=database)
    session.add_all([database, other, personal, universal, empty])
    session.flush()
    people = {
        "alice": add_profile(
            session,
            database,
            email="Alice@Example.com",
            phone="+7 (900) 000-00-01",
            custom={"card": "1001"},
        ),
        "bob": add_profile(session, database, email="bob@example.com", phone="+79000000002"),
        "twin1": add_profile(session, database, email="twin@example.com", custom={"card": "7"}),
        "twin2": add_profile(session, database, email="twin@example.com", custom={"card": "7"}),
        "stranger": add_profile(session, other, email="stranger@example.com"),
    }
    import_codes(session, personal, [ImportLine(n, f"FREE-{n}") for n in range(1, 4)])
    import_codes(session, universal, [ImportLine(1, "SUMMER")])
    token = create_token(session, "shop")
    session.flush()
    limited = create_token(session, "other only", [other.id])
    session.flush()
    # Read every value before the commit: a read after it would begin a new transaction.
    made = Shop(
        db_id=database.id,
        other_db_id=other.id,
        personal_id=personal.id,
        universal_id=universal.id,
        empty_id=empty.id,
        token=token,
        limited_token=limited,
        profiles={name: profile.profile_id for name, profile in people.items()},
    )
    session.commit()
    return made


def fill(url: str, parts: tuple[str, ...]) -> Shop | None:
    """Make the promo tables in the empty database at `url`, and the `parts` asked for;
    return the shop if one was made. Leave no connection open, so that the database can be
    copied."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()
        engine = promo.engine
    try:
        with Session(engine) as session:
            shop = build_shop(session) if "shop" in parts else None
            if "admin" in parts:
                set_admin_user(session, ADMIN, PASSWORD)
                session.commit()
            return shop
    finally:
        with app.app_context():
            for each in app.extensions["promo"].db.engines.values():
                each.dispose()


def admin_engine(server: URL) -> Engine:
    return create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(server: URL, template: str) -> str:
    """Make a database as a copy of `template`; return its name."""
    name = f"promo_test_{secrets.token_hex(6)}"
    admin = admin_engine(server)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        admin.dispose()
    return name


def drop_database(server: URL, name: str) -> None:
    """Drop database `name`, with the connections still open to it."""
    admin = admin_engine(server)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def fresh_postgres_database(
    server: URL, reached: URL | None = None, template: str = "template0"
) -> Iterator[str]:
    """Make a database on `server` as a copy of `template` (by default an empty one); yield
    its URL through `reached` (default: the server itself); drop it, with its connections,
    after."""
    name = create_database(server, template)
    try:
        yield (reached or server).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(server, name)


# A database's schema, to tell whether a test changed it (dropped a table or an index).
SCHEMA_QUERY = """
SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
    SELECT c.relname::text || ' ' || c.relkind::text AS line
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT c.relname::text || '.' || a.attname::text || ' '
           || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT conname::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
) AS schema
"""


@dataclass
class Snapshot:
    """What a PostgreSQL template holds, to put a working copy back to it."""

    schema: str
    rows: dict[str, list[dict[str, Any]]]  # table: rows, in PromoModel.metadata's order
    sequences: dict[str, int | None]  # name: last value (None: never used)


def snapshot(url: str) -> Snapshot:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = {
                table.name: [dict(row) for row in connection.execute(select(table)).mappings()]
                for table in PromoModel.metadata.sorted_tables
            }
            sequences = dict(
                connection.execute(
                    text(
                        "SELECT sequencename, last_value FROM pg_sequences"
                        " WHERE schemaname = 'public'"
                    )
                ).all()
            )
            return Snapshot(connection.exec_driver_sql(SCHEMA_QUERY).scalar(), rows, sequences)
    finally:
        engine.dispose()


def put_back(url: str, template: Snapshot) -> bool:
    """Put the working copy at `url` back to its template's rows and sequences, after ending
    what is still connected to it; say False, and change nothing, if its schema changed."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if connection.exec_driver_sql(SCHEMA_QUERY).scalar() != template.schema:
                return False
            # DELETE rather than TRUNCATE: TRUNCATE makes new files and waits for the disk to
            # sync them. The tables are small, and autovacuum clears what DELETE leaves.
            for table in reversed(PromoModel.metadata.sorted_tables):
                connection.execute(delete(table))
            for table in PromoModel.metadata.sorted_tables:
                if template.rows[table.name]:
                    connection.execute(insert(table), template.rows[table.name])
            for name, value in template.sequences.items():
                connection.execute(
                    text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                    {"name": f'"{name}"', "value": value or 1, "called": value is not None},
                )
        return True
    finally:
        engine.dispose()


class Templates:
    """The templates of one test run, each built on first use, and the copies of them.

    On SQLite a test gets a copy of the template's file. On PostgreSQL a working copy is
    made by CREATE DATABASE ... TEMPLATE; after its test it is put back to the template's
    state (the same rows, the same next ids) for the next test, rather than dropped: on
    PostgreSQL 15 every DROP DATABASE waits for a checkpoint of the whole server. A copy
    whose schema a test changed is dropped, and the next test gets a new one.
    """

    def __init__(self, folder: Path, server: URL | None, reached: URL | None = None) -> None:
        self.folder = folder
        self.server = server  # PostgreSQL's; None on SQLite
        # Where a test reaches its copy: the server, or a PgBouncer in front of it. Templates
        # are built and copies put back on the server itself.
        self.reached = reached or server
        self.built: dict[tuple[str, ...], tuple[str, Shop | None]] = {}  # (file or name, shop)
        self.snapshots: dict[tuple[str, ...], Snapshot] = {}
        self.idle: dict[tuple[str, ...], list[str]] = {}  # working copies ready for a test
        self.made: set[str] = set()

    def _build(self, parts: tuple[str, ...]) -> tuple[str, Shop | None]:
        if parts in self.built:
            return self.built[parts]
        label = "-".join(parts) or "tables"
        if self.server is None:
            path = self.folder / f"{label}.db"
            shop = fill(f"sqlite:///{path}", parts)
            # Put what the write-ahead log still holds into the file, so that the file
            # alone is the whole database.
            connection = sqlite3.connect(path)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
            self.built[parts] = (str(path), shop)
        else:
            name = create_database(self.server, "template0")
            self.made.add(name)
            url = self._url(name)
            shop = fill(url, parts)
            self.snapshots[parts] = snapshot(url)
            self.built[parts] = (name, shop)
        return self.built[parts]

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def shop(self, parts: tuple[str, ...]) -> Shop:
        shop = self._build(parts)[1]
        assert shop is not None, "the test's database was copied from a template with no shop"
        return shop

    @contextmanager
    def copy(self, parts: tuple[str, ...], folder: Path) -> Iterator[str]:
        """Yield the URL of a database just like the template with `parts`, for one test."""
        source, _shop = self._build(parts)
        if self.server is None:
            path = folder / "promo.db"
            shutil.copyfile(source, path)
            yield f"sqlite:///{path}"
            return
        idle = self.idle.setdefault(parts, [])
        if idle:
            name = idle.pop()
        else:
            name = create_database(self.server, source)
            self.made.add(name)
            with admin_engine(self.server).connect() as connection:
                # Its commits need not wait for the disk: nothing in it must outlive a crash
                # of the server. What a connection sees is the same.
                connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        try:
            yield self.reached.set(database=name).render_as_string(hide_password=False)
        finally:
            # A connection the test left checked out (a stream it never read) is given back
            # by the garbage collector: let that happen now, while its database is there.
            # Later, its rollback would fail on a database put back or dropped, and the error
            # logged with its traceback could land inside another ast.parse, which Python
            # 3.11 answers with "SystemError: AST constructor recursion depth mismatch". The
            # driver's warning that such a connection was not closed is for the test's code,
            # not a fault of the test's subject: it is not turned into an error here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                gc.collect()
            if put_back(self._url(name), self.snapshots[parts]):
                idle.append(name)
            else:
                drop_database(self.server, name)
                self.made.discard(name)

    def close(self) -> None:
        """Drop the PostgreSQL databases made (SQLite's files go with pytest's temporary
        folder)."""
        if self.server is None:
            return
        with ThreadPoolExecutor(4) as droppers:
            list(droppers.map(lambda name: drop_database(self.server, name), self.made))


# What a template may hold beside the tables; a test's template holds those it asks for.
PARTS = ("shop", "admin")


def parts_for(fixturenames: list[str]) -> tuple[str, ...]:
    """The parts the template of a test with these fixtures must hold."""
    return tuple(part for part in PARTS if part in fixturenames)
