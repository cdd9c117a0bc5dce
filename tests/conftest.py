"""Fixtures in the manner of flaskr: a fresh app and database per test, a client, a runner.

Each test's database is a copy of a template built once per run (tests/databases.py), and
the test's `session` is its own, beside the app's, as in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from promo_app import create_app
from tests.databases import Shop, Templates, fresh_postgres_database, parts_for
from tests.helpers import ADMIN
from tests.pgbouncer import SETTING, pgbouncer

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=BACKENDS,
        default=None,
        help="The database every test runs on (default: $PROMO_TEST_DATABASE, else sqlite).",
    )
    parser.addoption(
        "--pgbouncer",
        action="store_true",
        help="With --db postgresql: reach the tests' databases through a PgBouncer in "
        "transaction pooling mode that the run starts (Debian's pgbouncer).",
    )


def through_pgbouncer(config: pytest.Config) -> bool:
    return bool(config.getoption("--pgbouncer")) and selected_backend(config) == "postgresql"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--pgbouncer") and selected_backend(config) != "postgresql":
        raise pytest.UsageError("--pgbouncer goes with --db postgresql")
    if through_pgbouncer(config):
        # The app servers and commands the tests start run behind PgBouncer too.
        os.environ[SETTING] = "true"


def selected_backend(config: pytest.Config) -> str:
    """Name the database the tests run on: --db, else PROMO_TEST_DATABASE, else sqlite."""
    backend = config.getoption("--db") or os.environ.get("PROMO_TEST_DATABASE") or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"PROMO_TEST_DATABASE must be one of {BACKENDS}, not {backend!r}")
    return backend


ONLY_ON_SQLITE = ("sqlite_only", "db_independent")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, for `pytest -n N`
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any):
    from tests.parallel import LiveTestsInOneWorker

    return LiveTestsInOneWorker(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out of a pass on another database the tests of SQLite's own behaviour, and those
    that would run exactly as in the SQLite pass (no database, or a SQLite file of their own);
    leave out of the SQLite pass the tests of PostgreSQL's own behaviour."""
    if selected_backend(config) == "sqlite":
        postgresql = [item for item in items if item.get_closest_marker("postgresql_only")]
        if postgresql:
            config.hook.pytest_deselected(items=postgresql)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]
        return

    def sqlite_pass_only(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(name) for name in ONLY_ON_SQLITE)

    other = [item for item in items if sqlite_pass_only(item)]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not sqlite_pass_only(item)]


def pytest_report_header(config: pytest.Config) -> str:
    backend = selected_backend(config)
    if backend == "postgresql":
        where = make_url(postgres_base_url()).render_as_string(hide_password=True)
        through = ", reached through PgBouncer" if through_pgbouncer(config) else ""
        return (
            f"promo test database: postgresql (a copy of a template per test on {where}{through})"
        )
    return "promo test database: sqlite (a copy of a template file per test)"


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


@pytest.fixture(scope="session")
def postgres_reached(request: pytest.FixtureRequest, postgres_server: URL) -> Iterator[URL]:
    """Where the tests' databases are reached: the server itself, or with --pgbouncer a
    PgBouncer in front of it. Databases are made, copied and dropped on the server itself
    (CREATE DATABASE ... TEMPLATE refuses a template that PgBouncer holds connections to)."""
    if not through_pgbouncer(request.config):
        yield postgres_server
        return
    with pgbouncer(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def templates(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Templates]:
    server = reached = None
    if selected_backend(request.config) == "postgresql":
        server = request.getfixturevalue("postgres_server")
        reached = request.getfixturevalue("postgres_reached")
    made = Templates(tmp_path_factory.mktemp("templates"), server, reached)
    yield made
    made.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, templates: Templates, tmp_path) -> Iterator[str]:
    """The URL of the test's own database, with the promo tables: a SQLite file, or with
    --db postgresql (PROMO_TEST_DATABASE=postgresql) a PostgreSQL database of its own.

    It is a copy of a template (tests/databases.py) that holds the shop if the test uses
    the `shop`, and the page's admin user if it uses the `admin`.
    """
    with templates.copy(parts_for(request.fixturenames), tmp_path) as url:
        yield url


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a database with no tables at all, on the run's database."""
    if selected_backend(request.config) == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with fresh_postgres_database(server, request.getfixturevalue("postgres_reached")) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: URL, postgres_reached: URL) -> Iterator[str]:
    """A second fresh database on PostgreSQL, whichever backend the run is on: empty, with
    no tables."""
    with fresh_postgres_database(postgres_server, postgres_reached) as url:
        yield url


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module adds to the app's (override this fixture)."""
    return {}


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url, app_config, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            # The test's own, not the checkout's instance/promo-uploads, which tests running
            # at once in other workers would share (each has an upload job 1).
            "PROMO_UPLOAD_FOLDER": str(tmp_path / "uploads"),
            SETTING: through_pgbouncer(request.config),
            **app_config,
        }
    )
    yield app
    # Close pooled connections now: the test's database is put back or dropped next.
    with app.app_context():
        for engine in app.extensions["promo"].db.engines.values():
            engine.dispose()


@pytest.fixture
def engine(app) -> Engine:
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
def session(engine) -> Iterator[Session]:
    """A session of the test's own on the promo engine, as a script beside the app would
    have: bound to no application context, so that each request of the `client` gets its
    own context, session and teardown, as in production."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def shop(request: pytest.FixtureRequest, templates: Templates, database_url) -> Shop:
    """The shop in the test's database (copied with it from its template)."""
    return templates.shop(parts_for(request.fixturenames))


@pytest.fixture
def admin(database_url) -> str:
    """The name of the page's admin user in the test's database (copied with it from its
    template); its password is tests.helpers.PASSWORD."""
    return ADMIN
