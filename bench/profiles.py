"""Benchmarks of the profile verbs (issue 13), each beside its baseline in the same run:

- `profiles/import` of a new customer a call, req/s under gunicorn (2 workers, wrk), against
  attach from the pool on the same server, rounds alternating (target: at least 0.8);
- `profiles/import_batch` of 1,000 profiles a call (in process, the engine the call uses),
  against plain `sqlite3` `executemany` of the same rows into the same tables and indexes
  (target: at least 0.5);
- `promo import-profiles` of a CSV of N rows (1,000,000 by default) against the same plain
  `executemany` (target: at least 0.5), with the command's peak memory.

Usage: .venv/bin/python bench/profiles.py [--rows 1000000] [--rounds 3] [--seconds 5]
Scratch files go to bench/out/. Figures go in bench/RESULTS.md, not here.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import BIN, OUT, make_shop, sqlite_url  # noqa: E402
from servers import gunicorn, run_measured, wrk  # noqa: E402

from promo_app import create_app  # noqa: E402
from promo_app.models import CustomField  # noqa: E402
from promo_app.profiles.batch import import_profiles  # noqa: E402
from promo_app.times import utcnow  # noqa: E402

IMPORT_PATH = "/api/v1.1/profiles/import"


def wrk_imports(port: int, shop, tag: str, seconds: float, connections: int) -> dict:
    output = subprocess.run(
        [
            *("wrk", "--threads", "1", "--connections", str(connections)),
            *(
                "--duration",
                f"{seconds:g}s",
                "--script",
                str(ROOT / "bench" / "profile_import.lua"),
            ),
            f"http://127.0.0.1:{port}{IMPORT_PATH}",
        ],
        env={
            **os.environ,
            "BENCH_TOKEN": shop.token,
            "BENCH_DB_ID": str(shop.db_id),
            "BENCH_TAG": tag,
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


def bench_import_rps(args: argparse.Namespace) -> str:
    shop = make_shop(sqlite_url("profiles-rps.db"), free_codes=args.pool)
    totals = {"import": [0, 0], "attach": [0, 0]}
    with gunicorn("wsgi:app", {"DATABASE_URL": shop.url}) as port:
        # Warm up: a worker's first request builds its app, seconds on a busy machine.
        wrk_imports(port, shop, "0", 3, args.connections)
        wrk(port, shop.attach_body(), 3, args.connections)
        for round_ in range(1, args.rounds + 1):
            result = wrk_imports(port, shop, str(round_), args.seconds, args.connections)
            totals["import"][0] += result["requests"]
            totals["import"][1] += result["non_2xx"]
            result = wrk(port, shop.attach_body(), args.seconds, args.connections)
            totals["attach"][0] += result["requests"]
            totals["attach"][1] += result["non_2xx"]
    assert totals["import"][1] == 0 and totals["attach"][1] == 0, totals
    elapsed = args.rounds * args.seconds
    imports, attaches = totals["import"][0] / elapsed, totals["attach"][0] / elapsed
    return (
        f"| profiles/import of a new customer, req/s (gunicorn -w 2, wrk -c {args.connections}, "
        f"{args.rounds}x{args.seconds:g}s alternating) | {imports:,.0f} req/s | "
        f"{attaches:,.0f} req/s, attach from the pool, same server | {imports / attaches:.2f} "
        "| >= 0.8 |"
    )


def profile_rows(count: int, start: int = 0):
    for n in range(start, start + count):
        yield {"email": f"c{n}@example.com", "phone": f"+7900{n:07d}", "card": str(n)}


def new_database(name: str) -> tuple[str, int, int]:
    """A promo database file with one database declaring `card`; (url, db_id, field id)."""
    url = sqlite_url(name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()
        session = promo.db.session
        from promo_app.models import Database

        database = Database(name="Bench", custom_fields=[CustomField(name="card")])
        session.add(database)
        session.commit()
        ids = (database.id, database.custom_fields[0].id)
        session.close()
        promo.engine.dispose()
    return url, *ids


def plain_executemany(path: str, db_id: int, field_id: int, rows) -> float:
    """The baseline: plain sqlite3, same tables, indexes and pragmas; one transaction."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    created = utcnow().isoformat(sep=" ")
    started = time.perf_counter()
    connection.execute("BEGIN")
    first = (connection.execute("SELECT coalesce(max(id), 0) FROM promo_profile").fetchone()[0]) + 1
    profiles, fields = [], []
    for offset, row in enumerate(rows):
        pk = first + offset
        email = row["email"]
        profiles.append(
            (
                pk,
                os.urandom(12).hex(),
                db_id,
                email,
                email.lower(),
                row["phone"],
                row["phone"],
                created,
            )
        )
        fields.append((pk, field_id, row["card"]))
    connection.executemany(
        "INSERT INTO promo_profile (id, profile_id, db_id, email, email_key, phone, phone_key,"
        " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        profiles,
    )
    connection.executemany(
        "INSERT INTO promo_profile_field (profile_pk, field_id, value) VALUES (?, ?, ?)", fields
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def bench_batch(args: argparse.Namespace) -> str:
    """import_batch's engine, 1,000 new profiles a call, against executemany of the same."""
    url, db_id, _field = new_database("profiles-batch.db")
    plain_url, plain_db, plain_field = new_database("profiles-batch-plain.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    ours, plain = [], []
    with app.app_context():
        engine = app.extensions["promo"].engine
        for call in range(args.batches):
            items = list(profile_rows(1_000, call * 1_000))
            started = time.perf_counter()
            with engine.connect() as connection:
                result = import_profiles(connection, db_id, items)
                connection.commit()
            ours.append(time.perf_counter() - started)
            assert result.created == 1_000, result.failed
            plain_path = plain_url.removeprefix("sqlite:///")
            plain.append(plain_executemany(plain_path, plain_db, plain_field, items))
        engine.dispose()
    mine, base = 1_000 / statistics.median(ours), 1_000 / statistics.median(plain)
    return (
        f"| profiles/import_batch engine, 1,000 new profiles a call (median of {args.batches}, "
        f"in process) | {mine:,.0f} rows/s | {base:,.0f} rows/s, plain sqlite3 executemany of "
        f"the same rows | {mine / base:.2f} | >= 0.5 |"
    )


def bench_file(args: argparse.Namespace) -> str:
    """promo import-profiles of a CSV of args.rows rows, against executemany of the same."""
    path = OUT / f"profiles-{args.rows}.csv"
    if not path.exists():
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, ["email", "phone", "card"])
            writer.writeheader()
            writer.writerows(profile_rows(args.rows))
    url, db_id, _field = new_database("profiles-file.db")
    command = [
        *(str(BIN / "flask"), "--app", "wsgi", "promo", "import-profiles", str(path)),
        *("--db-id", str(db_id)),
    ]
    seconds, peak = run_measured(command, env={"DATABASE_URL": url})
    plain_url, plain_db, plain_field = new_database("profiles-file-plain.db")
    with open(path, newline="") as file:
        base_seconds = plain_executemany(
            plain_url.removeprefix("sqlite:///"), plain_db, plain_field, csv.DictReader(file)
        )
    mine, base = args.rows / seconds, args.rows / base_seconds
    return (
        f"| `promo import-profiles` of {args.rows:,} CSV rows | {mine:,.0f} rows/s "
        f"({seconds:.1f} s), peak {peak / 1024:.0f} MiB | {base:,.0f} rows/s "
        f"({base_seconds:.1f} s), plain sqlite3 executemany, reading the same CSV | "
        f"{mine / base:.2f} | >= 0.5 |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV")
    parser.add_argument("--batches", type=int, default=20, help="import_batch calls")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--pool", type=int, default=200_000, help="free codes for attach")
    parser.add_argument("--only", nargs="*", default=["rps", "batch", "file"])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("| what | measured | baseline | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for name, bench in (("rps", bench_import_rps), ("batch", bench_batch), ("file", bench_file)):
        if name in args.only:
            print(bench(args), flush=True)


if __name__ == "__main__":
    main()
