"""Fixtures in the manner of flaskr: a fresh app and database per test, a client, a runner."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from promo_app import create_app
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import CustomField, Database, LoyaltyProgram
from promo_app.profiles import add_profile
from promo_app.tokens import create_token

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=BACKENDS,
        default=None,
        help="The database every test runs on (default: $PROMO_TEST_DATABASE, else sqlite).",
    )


def selected_backend(config: pytest.Config) -> str:
    """Name the database the tests run on: --db, else PROMO_TEST_DATABASE, else sqlite."""
    backend = config.getoption("--db") or os.environ.get("PROMO_TEST_DATABASE") or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"PROMO_TEST_DATABASE must be one of {BACKENDS}, not {backend!r}")
    return backend


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave tests of SQLite's own behaviour out of a pass on another database."""
    if selected_backend(config) == "sqlite":
        return
    other = [item for item in items if item.get_closest_marker("sqlite_only")]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]


def pytest_report_header(config: pytest.Config) -> str:
    backend = selected_backend(config)
    if backend == "postgresql":
        where = make_url(postgres_base_url()).render_as_string(hide_password=True)
        return f"promo test database: postgresql (a fresh database per test on {where})"
    return "promo test database: sqlite (a fresh file per test)"


def postgres_base_url() -> str:
    return os.environ.get("PROMO_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The PostgreSQL server that tests make their databases on.

    Missing on a user's machine, the tests that need it skip with a reason; under CI=true
    they fail, since CI must run them.
    """
    url = make_url(postgres_base_url())
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = f"PostgreSQL at {url.render_as_string(hide_password=True)} is not reachable: "
        reason += str(error.orig).strip().splitlines()[0]
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: the PostgreSQL tests must not be skipped)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


@contextmanager
def fresh_postgres_database(server: URL) -> Iterator[str]:
    """Make an empty database from template0; drop it, with its connections, after."""
    name = f"promo_test_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a fresh, empty database for one test: a SQLite file, or with
    --db postgresql (PROMO_TEST_DATABASE=postgresql) a PostgreSQL database of its own."""
    if selected_backend(request.config) == "sqlite":
        yield f"sqlite:///{tmp_path / 'promo.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: URL) -> Iterator[str]:
    """A second fresh database on PostgreSQL, whichever backend the run is on."""
    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module adds to the app's (override this fixture)."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            **app_config,
        }
    )
    with app.app_context():
        app.extensions["promo"].create_all()
    yield app
    # Close pooled connections now: the test's database is dropped next.
    with app.app_context():
        for engine in app.extensions["promo"].db.engines.values():
            engine.dispose()


@pytest.fixture
def engine(app):
    """The app's promo engine, for tests that open sessions of their own beside the app's."""
    with app.app_context():
        return app.extensions["promo"].engine


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A session on the test's database, inside an application context."""
    with app.app_context():
        yield app.extensions["promo"].db.session


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


@pytest.fixture
def shop(app, session) -> Shop:
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
