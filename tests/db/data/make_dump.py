"""Make the dumps of 0.1.0 databases that tests/db/test_migrations.py upgrades.

It fills a database through the CLI and the API only (what a shop did with that version),
then dumps it (SQLite: iterdump; PostgreSQL: pg_dump --inserts) and writes the secrets of
the tokens it made beside it (OUT.json; test data). Run with the code of 0.1.0 (commit
4c22ab8) on the path, not this checkout's:

    git archive 4c22ab8 promo_app wsgi.py | tar -x -C /tmp/v010
    PYTHONPATH=/tmp/v010 python make_dump.py sqlite promo-0.1.0-sqlite.sql
    PYTHONPATH=/tmp/v010 python make_dump.py postgresql+psycopg://postgres@127.0.0.1/EMPTY \
        promo-0.1.0-postgresql.sql
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

target, out = sys.argv[1], Path(sys.argv[2])
work = Path(tempfile.mkdtemp())
url = f"sqlite:///{work / 'promo.db'}" if target == "sqlite" else target
os.environ["SECRET_KEY"] = "fixture"
from promo_app import create_app  # noqa: E402

app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url, "SECRET_KEY": "fixture"})
runner = app.test_cli_runner()


def cli(*args):
    result = runner.invoke(args=["promo", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


cli("init-db")
db_id = int(cli("create-database", "Shop", "--custom-field", "card"))
other_id = int(cli("create-database", "Other shop"))
(work / "people.csv").write_text(
    "email,phone,card\n"
    "alice@example.com,+7 900 000-00-01,1001\n"
    "bob@example.com,+79000000002,\n"
    "carol@example.com,,3003\n"
)
cli("import-profiles", str(work / "people.csv"), "--db-id", str(db_id))
personal = int(cli("create-program", "Welcome 10%"))
universal = int(cli("create-program", "Summer sale", "--universal"))
(work / "codes.txt").write_text("".join(f"WELCOME-{n:04d}\n" for n in range(1, 21)))
cli("import-codes", str(work / "codes.txt"), "--loyalty-id", str(personal))
(work / "codes.csv").write_text("code,expire_date\nSUMMER,2030-12-31\nOLD,2020-01-01\n")
cli("import-codes", str(work / "codes.csv"), "--loyalty-id", str(universal))
token = cli("create-token", "website")
limited = cli("create-token", "other only", "--db-id", str(other_id))
revoked = cli("create-token", "old website")
cli("revoke-token", "old website")
cli("create-admin", "merchant", "--password", "fixture-password")

client = app.test_client()


def call(verb, **params):
    response = client.post(f"/api/v1.1/promocodes/{verb}", json={"token": token, **params})
    body = response.get_json()
    assert body["error"] == 0, body
    return body["data"]


attached = [
    call("attach", db_id=db_id, loyalty_id=personal, email="alice@example.com"),
    call("attach", db_id=db_id, loyalty_id=personal, phone="+79000000002"),
    call(
        "attach",
        db_id=db_id,
        loyalty_id=universal,
        code="SUMMER",
        field_name="card",
        field_value="1001",
    ),
    call("attach", db_id=db_id, loyalty_id=universal, code="SUMMER", email="carol@example.com"),
]
call("activate", loyalty_id=personal, code=attached[0]["code"])
call("update", loyalty_id=personal, code="WELCOME-0020", expire_date="2031-01-01T00:00:00Z")

if target == "sqlite":
    with app.app_context():
        app.extensions["promo"].engine.dispose()
    connection = sqlite3.connect(work / "promo.db")
    lines = list(connection.iterdump())
    connection.close()
    out.write_text("\n".join(lines) + "\n")
else:
    with app.app_context():
        app.extensions["promo"].engine.dispose()
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "--inserts", target.replace("+psycopg", "")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # psql's \restrict lines are not SQL; the rest runs through any driver.
    out.write_text("".join(line for line in dump.splitlines(True) if not line.startswith("\\")))
out.with_suffix(".json").write_text(
    json.dumps(
        {
            "token": token,
            "limited": limited,
            "revoked": revoked,
            "db_id": db_id,
            "personal": personal,
            "universal": universal,
            "attached": attached,
        },
        indent=1,
    )
    + "\n"
)
