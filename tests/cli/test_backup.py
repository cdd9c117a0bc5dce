"""`flask promo backup DEST` / `restore SRC` in one process: copies, refusals, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing

import pytest
from sqlalchemy import func, select

from promo_app import create_app
from promo_app.models import Attachment, PromoCode
from tests.helpers import call
from tests.pgbouncer import SETTING, to_server

sqlite_only = pytest.mark.sqlite_only


def run(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["promo", *args], input=input)


def codes_in(path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT count(*) FROM promo_code").fetchone()[0]


@sqlite_only
def test_backup_copies_the_database_and_refuses_to_overwrite(runner, shop, tmp_path):
    destination = tmp_path / "backup.db"
    result = run(runner, "backup", str(destination))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(destination)
    assert "passed PRAGMA integrity_check" in result.output
    assert codes_in(destination) == 4

    result = run(runner, "backup", str(destination))
    assert result.exit_code == 1
    assert "exists; add --force to replace it" in result.output
    assert run(runner, "backup", str(destination), "--force").exit_code == 0
    result = run(runner, "backup", str(tmp_path / "nowhere" / "backup.db"))
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not list(tmp_path.glob("*.partial-*"))


@sqlite_only
def test_restore_brings_back_the_state_of_the_backup(runner, client, session, shop, tmp_path):
    destination = tmp_path / "backup.db"
    assert run(runner, "backup", str(destination)).exit_code == 0
    params = {"token": shop.token, "db_id": shop.db_id, "email": "bob@example.com"}
    assert call(client, "attach", {**params, "loyalty_id": shop.personal_id})[0] == 200
    session.close()

    result = run(runner, "restore", str(destination), input="y\n")
    assert result.exit_code == 0, result.output
    assert "Restored 4 codes and 0 attachments" in result.output
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert session.scalar(select(func.count()).select_from(PromoCode)) == 4


@sqlite_only
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist."),
        (b"not a database at all, just some text" * 100, "is not a SQLite database"),
        ("empty sqlite", "is not a promo database: it has no promo_admin_user table."),
    ],
)
def test_restore_refuses_what_is_not_a_promo_backup(
    runner, session, shop, tmp_path, content, message
):
    source = tmp_path / "source.db"
    if content == "empty sqlite":
        with closing(sqlite3.connect(source)) as connection:
            connection.execute("CREATE TABLE other (x)")
    elif content is not None:
        source.write_bytes(content)
    session.close()
    result = run(runner, "restore", str(source), "--yes")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(PromoCode)) == 4


@sqlite_only
def test_restore_asks_first(runner, shop, tmp_path):
    assert run(runner, "backup", str(tmp_path / "backup.db")).exit_code == 0
    result = run(runner, "restore", str(tmp_path / "backup.db"), input="n\n")
    assert result.exit_code == 1
    assert "Nothing was changed." in result.output


def test_backup_on_postgresql_prints_pg_dump_and_pg_restore_commands_that_work(
    postgres_url, postgres_server, postgres_reached, tmp_path
):
    pgbouncer = postgres_reached != postgres_server
    app = create_app(
        {"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": postgres_url, SETTING: pgbouncer}
    )
    runner = app.test_cli_runner()
    assert run(runner, "create-program", "Kept").exit_code == 0
    dump = tmp_path / "promo.dump"
    result = run(runner, "backup", str(dump))
    assert result.exit_code == 1  # no backup was made by this command
    assert "back it up with pg_dump" in result.output
    assert ("PROMO_PGBOUNCER is set: give it PostgreSQL's own address" in result.output) is (
        pgbouncer
    )
    command = result.output.strip().splitlines()[-1]
    assert command.startswith(f"pg_dump --format=custom --file {dump} 'postgresql://")
    command = to_server(command, postgres_reached, postgres_server)
    if shutil.which("pg_dump") is None:
        reason = "pg_dump is not installed: the printed command cannot be run here"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must run)")
        pytest.skip(reason)
    subprocess.run(["sh", "-c", command], check=True, timeout=60)
    assert run(runner, "delete-program", "1", "--yes").exit_code == 0

    result = run(runner, "restore", str(dump), "--yes")
    assert result.exit_code == 1
    command = result.output.strip().splitlines()[-1]
    assert command.startswith("pg_restore --clean --if-exists --dbname 'postgresql://")
    command = to_server(command, postgres_reached, postgres_server)
    with app.app_context():
        app.extensions["promo"].engine.dispose()
    subprocess.run(["sh", "-c", command], check=True, timeout=60)
    listed = run(runner, "list-programs", "--json")
    assert '"name": "Kept"' in listed.output
    with app.app_context():
        app.extensions["promo"].engine.dispose()
