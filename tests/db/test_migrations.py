"""Our own migrations: a 0.1.0 database upgrades with every row kept; the head is the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from promo_app import create_app
from promo_app.db.migrate import VERSION_TABLE, configure_options, head_revision
from promo_app.models import PromoModel

from ..conftest import selected_backend
from ..helpers import call
from ..page.test_page import sign_in

DATA = Path(__file__).with_name("data")


@pytest.fixture
def database_url(empty_database_url):
    """These tests start from a database with no tables at all."""
    return empty_database_url


def make_app(url: str):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})


@pytest.fixture
def empty_app(database_url):
    """The standalone app on an empty database (no promo tables yet)."""
    app = make_app(database_url)
    yield app
    with app.app_context():
        app.extensions["promo"].engine.dispose()


def load_dump(url: str, backend: str) -> dict:
    """Fill an empty database with the dump that promo_app 0.1.0 made (tests/db/data)."""
    sql = (DATA / f"promo-0.1.0-{backend}.sql").read_text()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            driver = connection.connection.driver_connection
            # The driver's own call: a dump is many statements, and "10%" is no placeholder.
            if backend == "sqlite":
                driver.executescript(sql)
            else:
                driver.execute(sql)
                # The dump's SETs (an empty search_path) would outlive it on the server's
                # connection, which a PgBouncer passes on to the next client.
                driver.execute("RESET ALL")
    finally:
        engine.dispose()
    return json.loads((DATA / f"promo-0.1.0-{backend}.json").read_text())


def every_row(url: str, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every promo table, in the columns the database has (or those given:
    the columns a database had before an upgrade added some)."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        there = set(inspector.get_table_names()) if columns is None else set(columns)
        rows = {}
        with engine.connect() as connection:
            for table in PromoModel.metadata.sorted_tables:
                if table.name not in there:
                    continue  # a table that a later revision adds
                names = (columns or {}).get(table.name) or [
                    column["name"] for column in inspector.get_columns(table.name)
                ]
                query = select(*(table.c[name] for name in names))
                rows[table.name] = connection.execute(
                    query.order_by(*table.primary_key.columns)
                ).all()
        return rows
    finally:
        engine.dispose()


def columns_of(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        there = set(inspector.get_table_names())
        return {
            table.name: [column["name"] for column in inspector.get_columns(table.name)]
            for table in PromoModel.metadata.sorted_tables
            if table.name in there
        }
    finally:
        engine.dispose()


def schema_of(url: str) -> dict:
    """What a user's queries depend on: columns, keys, indexes (with their WHERE), per table."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        shape = {}
        for name in sorted(inspector.get_table_names()):
            if name == VERSION_TABLE:
                continue
            shape[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                "pk": inspector.get_pk_constraint(name),
                "fks": sorted(
                    (
                        fk["name"],
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        fk["options"].get("ondelete"),
                    )
                    for fk in inspector.get_foreign_keys(name)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(name)
                ),
                "indexes": sorted(
                    (
                        i["name"],
                        tuple(i["column_names"]),
                        bool(i["unique"]),
                        sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()),
                    )
                    for i in inspector.get_indexes(name)
                ),
            }
        return shape
    finally:
        engine.dispose()


def test_the_head_revision_is_what_the_models_describe(empty_app, database_url, tmp_path, request):
    result = empty_app.test_cli_runner().invoke(args=["promo", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context(), empty_app.extensions["promo"].engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=configure_options())
        assert compare_metadata(context, PromoModel.metadata) == []
    # Stronger than autogenerate (which skips partial-index predicates): the same shape as
    # the models' own create_all.
    if selected_backend(request.config) == "sqlite":
        other = f"sqlite:///{tmp_path / 'create_all.db'}"
    else:
        other = request.getfixturevalue("postgres_url")
    engine = create_engine(other)
    PromoModel.metadata.create_all(engine)
    engine.dispose()
    assert schema_of(database_url) == schema_of(other)


def test_a_0_1_0_database_upgrades_with_every_row_kept(database_url, request):
    backend = selected_backend(request.config)
    made = load_dump(database_url, backend)
    old_columns = columns_of(database_url)
    before = every_row(database_url)
    assert len(before["promo_code"]) == 22 and len(before["promo_attachment"]) == 4

    app = make_app(database_url)
    result = app.test_cli_runner().invoke(args=["promo", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "made before migrations" in result.output
    assert every_row(database_url, old_columns) == before
    again = app.test_cli_runner().invoke(args=["promo", "db", "current"])
    assert again.output.strip() == f"{head_revision()} (head)"

    client = app.test_client()
    shop = {"db_id": made["db_id"], "loyalty_id": made["personal"]}
    # The old token still attaches: a retry of 0.1.0's attach changes nothing, a new
    # customer gets the next free code.
    retry = {"token": made["token"], **shop, "phone": "+79000000002", "code": "WELCOME-0002"}
    status, body = call(client, "attach", retry)
    assert (status, body["data"]["code"]) == (200, "WELCOME-0002")
    status, body = call(
        client, "attach", {"token": made["token"], **shop, "email": "carol@example.com"}
    )
    assert (status, body["data"]["code"]) == (200, "WELCOME-0003")
    status, body = call(
        client, "attach", {"token": made["revoked"], **shop, "email": "carol@example.com"}
    )
    assert (status, body["error_text"]) == (401, "Invalid API token")
    status, body = call(
        client, "attach", {"token": made["limited"], **shop, "email": "carol@example.com"}
    )
    assert (status, body["error_text"]) == (403, "Access denied")
    # The admin of 0.1.0 still signs in to the page.
    page = sign_in(client, "merchant", "fixture-password")
    assert page.status_code == 302
    assert "Welcome 10%" in client.get("/admin/").text
    with app.app_context():
        app.extensions["promo"].engine.dispose()


def test_init_db_is_upgrade_to_head_and_runs_once(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["promo", "init-db"])
    assert first.exit_code == 0, first.output
    assert f"from an empty database to {head_revision()}" in first.output
    second = runner.invoke(args=["promo", "init-db"])
    assert f"at the head revision {head_revision()}" in second.output


def test_current_history_downgrade_and_upgrade_again(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["promo", "db", "current"]).output.startswith("none")
    runner.invoke(args=["promo", "db", "upgrade"])
    history = runner.invoke(args=["promo", "db", "history"]).output.splitlines()
    assert history[0].startswith("0001 ") and history[-1].endswith("(current)")

    # Each step down undoes one revision, until the first, which would drop every table.
    for _ in history[1:]:
        step = runner.invoke(args=["promo", "db", "downgrade"])
        assert step.exit_code == 0, step.output
    assert runner.invoke(args=["promo", "db", "current"]).output.startswith("0001")

    kept = runner.invoke(args=["promo", "db", "downgrade"], input="n\n")
    assert kept.exit_code == 1 and "drops every promo table" in kept.output
    with empty_app.app_context():
        assert "promo_code" in inspect(empty_app.extensions["promo"].engine).get_table_names()

    gone = runner.invoke(args=["promo", "db", "downgrade", "--yes"])
    assert gone.exit_code == 0, gone.output
    with empty_app.app_context():
        names = inspect(empty_app.extensions["promo"].engine).get_table_names()
    assert not [name for name in names if name.startswith("promo_") and name != VERSION_TABLE]
    assert runner.invoke(args=["promo", "db", "current"]).output.startswith("none")
    assert runner.invoke(args=["promo", "db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["promo", "db", "current"]).output.strip().endswith("(head)")


def test_promo_tables_of_another_shape_are_refused_and_left_alone(empty_app):
    with empty_app.app_context():
        engine = empty_app.extensions["promo"].engine
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE promo_code (id INTEGER PRIMARY KEY, label TEXT)"))
    result = empty_app.test_cli_runner().invoke(args=["promo", "db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "promo_code lacks the columns" in result.output
    with empty_app.app_context():
        assert inspect(engine).get_table_names() == ["promo_code"]


def test_other_commands_ask_for_an_upgrade_first(database_url, request):
    load_dump(database_url, selected_backend(request.config))
    before = every_row(database_url)
    app = make_app(database_url)
    result = app.test_cli_runner().invoke(args=["promo", "create-program", "Autumn"])
    assert result.exit_code == 1
    assert "run `flask promo db upgrade` first" in result.output
    assert "Traceback" not in result.output
    assert every_row(database_url) == before
    with app.app_context():
        app.extensions["promo"].engine.dispose()


def test_a_command_on_an_empty_database_makes_the_tables_at_the_head(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["promo", "create-program", "Welcome"])
    assert result.exit_code == 0, result.output
    assert (
        runner.invoke(args=["promo", "db", "current"]).output.strip() == f"{head_revision()} (head)"
    )
