"""Count the statements one attach sends to PostgreSQL, by the server's own record.

With the database on another machine every statement of a call waits for the network, so
the count of round trips is what an attach costs there. The benchmark makes a database of
its own, has the server log every statement sent to it (`ALTER DATABASE ... SET
log_statement = 'all'`, no restart and no other database touched), runs attach calls
through the app in this process (the same view, engine and pool as under gunicorn), and
counts the lines the server wrote for that database. Each kind of call is counted twice,
side by side: as the app runs it ("now", the one-statement attaches of attach_pg.py
first), and by the full path alone ("full path", attach_pg.try_attach switched off: what
every call cost before there were one-statement attaches). Usage:

    .venv/bin/python bench/round_trips.py [--calls 20] [--tag NAME] [--url postgresql+psycopg://...]
        [--log /var/log/postgresql/postgresql-15-main.log]

The server's log is where Debian's pg_ctlcluster writes it (stderr, no logging collector);
the user must be allowed to create databases and set log_statement (a superuser).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

import promo_app.attach_pg  # noqa: E402
from promo_app import create_app  # noqa: E402
from promo_app.importing.batches import import_codes  # noqa: E402
from promo_app.importing.report import ImportLine  # noqa: E402
from promo_app.models import Database, LoyaltyProgram  # noqa: E402
from promo_app.profiles import add_profile  # noqa: E402
from promo_app.tokens import create_token  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ATTACH = "/api/v1.1/promocodes/attach"
# A line the server writes for each statement it is sent: a simple query ("statement:"),
# or the execute step of the extended protocol ("execute <unnamed>:"). A statement's
# parameters follow on DETAIL lines, its text on lines of its own: neither is counted.
STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)$")


def default_log() -> str | None:
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*-main.log"))
    return found[-1] if found else None


def admin(url):
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def make_database(server, name: str) -> None:
    engine = admin(server)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        connection.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
    engine.dispose()


def drop_database(server, name: str) -> None:
    engine = admin(server)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def fill(app, calls: int) -> tuple[str, dict[str, int]]:
    """A database of profiles, two personal programs with codes for every call, a token and
    one limited to the database; return the tokens and the ids."""
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()
        engine = promo.engine
    with Session(engine) as session:
        database = Database(name="Shop")
        pool = LoyaltyProgram(name="Pool", universal=False, database=database)
        named = LoyaltyProgram(name="Named", universal=False, database=database)
        shared = LoyaltyProgram(name="Shared", universal=True, database=database)
        session.add_all([database, pool, named, shared])
        session.flush()
        size = 4 * calls + 4  # two passes of two kinds of calls each, for each program
        for n in range(size):
            add_profile(session, database, email=f"customer{n}@example.com")
        import_codes(session, pool, [ImportLine(n, f"POOL-{n}") for n in range(size)])
        import_codes(session, named, [ImportLine(n, f"NAMED-{n}") for n in range(size)])
        token = create_token(session, "bench")
        session.flush()
        limited = create_token(session, "bench, this database only", [database.id])
        ids = {"db_id": database.id, "pool": pool.id, "named": named.id, "shared": shared.id}
        session.commit()
    return token, limited, ids


def attach(client, token: str, params: dict) -> None:
    """One call; `expect` in `params` is the status it must answer (200 unless said)."""
    params = dict(params)
    expect = params.pop("expect", 200)
    response = client.post(ATTACH, json={"token": token, **params})  # params may say another
    if response.status_code != expect:
        raise RuntimeError(f"attach answered {response.status_code}: {response.get_data(True)}")


def statements(log: Path, offset: int, database: str) -> list[str]:
    """The statements the server logged for `database` after `offset`."""
    time.sleep(0.5)  # the server writes its log as it goes; let the last lines land
    with log.open(errors="replace") as file:
        file.seek(offset)
        lines = file.read().splitlines()
    marker = f"@{database} "
    found = []
    for line in lines:
        if marker in line:
            match = STATEMENT.search(line)
            if match:
                found.append(match.group(1).strip())
    return found


def label(statement: str) -> str:
    """A statement as the table's detail reads: its first word and the first table it names."""
    table = re.search(r"\b(promo_\w+)", statement)
    word = statement.split()[0].upper() if statement.split() else "?"
    return f"{word} {table.group(1)}" if table and word != "WITH" else word


def count(client, log: Path, name: str, token: str, calls: list[dict]) -> tuple[float, Counter]:
    """Run the calls; return the statements per call and what they were (by first word)."""
    offset = log.stat().st_size
    for params in calls:
        attach(client, token, params)
    sent = statements(log, offset, name)
    kinds = Counter(label(text) for text in sent)
    return len(sent) / len(calls), kinds


def kinds(ids: dict[str, int], limited: str, n: int, first: int) -> dict[str, list[dict]]:
    """The calls of each kind, for the customers and codes numbered from `first` on (a pass
    takes 2n of them); in this order, as a retry follows its first call."""
    draw = {"db_id": ids["db_id"], "loyalty_id": ids["pool"]}
    named = {"db_id": ids["db_id"], "loyalty_id": ids["named"]}
    shared = {"db_id": ids["db_id"], "loyalty_id": ids["shared"]}
    some = range(first, first + n)
    return {
        "pool draw": [{**draw, "email": f"customer{i}@example.com"} for i in some],
        "pool draw, limited token": [
            {**draw, "email": f"customer{i + n}@example.com", "token": limited} for i in some
        ],
        "named code, free": [
            {**named, "email": f"customer{i}@example.com", "code": f"NAMED-{i}"} for i in some
        ],
        "named code, new": [
            {**named, "email": f"customer{i}@example.com", "code": f"NEW-{i}"} for i in some
        ],
        "named code, new, universal program": [
            {**shared, "email": f"customer{i}@example.com", "code": f"NEW-{i}"} for i in some
        ],
        "named code, held (a retry)": [
            {**named, "email": f"customer{i}@example.com", "code": f"NAMED-{i}"} for i in some
        ],
        "named code, held by another (409)": [
            {**named, "email": f"customer{i + 1}@example.com", "code": f"NAMED-{i}", "expect": 409}
            for i in some
        ],
    }


def measure(
    url: str, log: Path, calls: int, pgbouncer: bool = False, tag: str = ""
) -> dict[str, tuple[float, float, str]]:
    """Count each kind of attach on a database of the run's own, as the app runs it and by
    the full path alone; print and return, for each kind, (statements per call, statements
    per call of the full path, what they were)."""
    server = make_url(url)
    tag = re.sub(r"[^a-z0-9]", "", tag.lower())
    name = f"promo_bench_trips_{tag + '_' if tag else ''}{secrets.token_hex(4)}"
    make_database(server, name)
    counted = {}
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": url,
                "PROMO_RATELIMIT_ENABLED": False,
                "PROMO_PGBOUNCER": pgbouncer,
            }
        )
        token, limited, ids = fill(app, calls)
        client = app.test_client()
        n = calls
        draw = {"db_id": ids["db_id"], "loyalty_id": ids["pool"]}
        named = {"db_id": ids["db_id"], "loyalty_id": ids["named"]}
        # One call of each first: the pool's connection is made, SQLAlchemy asks the server
        # about itself, once per process, and each token's first use is noted (then at most
        # once a minute per process: token_use.py).
        attach(client, token, {**draw, "email": "customer0@example.com"})
        attach(client, token, {**named, "email": "customer0@example.com", "code": "NAMED-0"})
        attach(client, limited, {**draw, "email": "customer0@example.com"})
        print(f"PostgreSQL statements per attach call ({n} calls each, server log of {name}):")
        print(f"  {'':<36} {'now':>5}  {'full path':>9}   (what now sends)")
        now = kinds(ids, limited, n, first=1)
        alone = kinds(ids, limited, n, first=2 * n + 1)
        real = promo_app.attach_pg.try_attach
        for kind in now:
            per_call, seen = count(client, log, name, token, now[kind])
            promo_app.attach_pg.try_attach = lambda *args, **kwargs: None
            try:
                before, _ = count(client, log, name, token, alone[kind])
            finally:
                promo_app.attach_pg.try_attach = real
            detail = ", ".join(f"{word} {number / n:g}" for word, number in seen.most_common())
            print(f"  {kind:<36} {per_call:5.2f}  {before:9.2f}   ({detail})")
            counted[kind] = (per_call, before, detail)
        with app.app_context():
            app.extensions["promo"].engine.dispose()
    finally:
        drop_database(server, name)
    return counted


def rows(args) -> list:
    """bench/run.py's `round-trips` rows: statements per attach call, by the server's log,
    against the full path alone in the same run."""
    from common import Row

    log = os.environ.get("PROMO_BENCH_POSTGRES_LOG") or default_log()
    what = "PostgreSQL statements (round trips) per attach: {}"
    if not log or not os.access(log, os.R_OK):
        reason = "no readable server log (set PROMO_BENCH_POSTGRES_LOG)"
        return [Row(what.format("pool draw"), "not available", "", None, "<= 1", reason)]
    url = os.environ.get("PROMO_BENCH_POSTGRES_URL", DEFAULT_URL)
    return [
        Row(
            what.format(kind),
            f"{per_call:.2f}",
            f"{before:.2f} (the full path alone, same run)",
            per_call / before,
            "<= 1",
            detail,
        )
        for kind, (per_call, before, detail) in measure(url, Path(log), calls=10).items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="attach calls per kind")
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL server (superuser)")
    parser.add_argument("--log", default=default_log(), help="the server's log file")
    parser.add_argument("--pgbouncer", action="store_true", help="run with PROMO_PGBOUNCER")
    parser.add_argument(
        "--tag", default="", help="a word in the database's name (on a shared server: whose)"
    )
    args = parser.parse_args()
    if not args.log or not Path(args.log).is_file():
        sys.exit("Give the PostgreSQL server's log file with --log (no default one found).")
    measure(args.url, Path(args.log), args.calls, args.pgbouncer, args.tag)


if __name__ == "__main__":
    main()
