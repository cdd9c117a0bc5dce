"""The counts of a program at ten million codes: the programs overview and a program's page
at a large program vs a small one (the counts kept by triggers, revision 0009), on SQLite and
PostgreSQL; and attach req/s on PostgreSQL with several gunicorn workers, with the triggers
and without them, in one run.

    .venv/bin/python bench/counts.py --codes 10000000          # the issue's size (minutes)
    .venv/bin/python bench/counts.py --codes 100000 --only page --backends sqlite

bench/run.py runs it as its `counts` row (with --codes from its own options).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

from common import (  # also puts the checkout on the path, for promo_app
    Row,
    codes_file,
    count_codes,
    import_command,
    make_shop,
    sqlite_url,
)
from page_speed import best_of
from servers import gunicorn, post, run_measured, wrk
from sqlalchemy import create_engine, func, make_url, select, text

from promo_app import create_app
from promo_app.counts import EPOCH, day_of
from promo_app.models import LoyaltyProgram, PromoCode
from promo_app.page.queries import program_summaries
from promo_app.page.statuses import STATUSES, status_condition
from promo_app.times import utcnow

POSTGRES = os.environ.get(
    "PROMO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test"
)
PASSWORD = "benchmark password"
# Codes whose expiry passed earlier today, the same number at every size: the one count
# that reads codes (counts.py), through the index on (program, expiry).
EXPIRED_TODAY = 50

SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)
INSERT INTO promo_code (loyalty_id, code, universal, free, expire_date, activated, created,
                        lapsed)
SELECT :program, printf('C%010d', i), 0, i % 10 <> 0,
       CASE WHEN i < :today_count THEN :today WHEN i % 1000 = 7 THEN :yesterday
            WHEN i % 1000 = 9 THEN :next_year END,
       CASE WHEN i % 100 = 0 THEN :created END, :created, 0
FROM n
"""
POSTGRES_FILL = """
INSERT INTO promo_code (loyalty_id, code, universal, free, expire_date, activated, created,
                        lapsed)
SELECT :program, 'C' || lpad(i::text, 10, '0'), false, i % 10 <> 0,
       CASE WHEN i < :today_count THEN :today WHEN i % 1000 = 7 THEN :yesterday
            WHEN i % 1000 = 9 THEN :next_year END,
       CASE WHEN i % 100 = 0 THEN :created END, :created, false
FROM generate_series(0, :count - 1) AS i
"""


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    server = make_url(POSTGRES)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    database = f"bench_{name}_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def fill(app, codes: int) -> int:
    """Add a program of `codes` codes in one INSERT … SELECT: every 10th given out, every
    100th activated, every 1000th expired yesterday, EXPIRED_TODAY expired earlier today."""
    now = utcnow()
    today = EPOCH + timedelta(days=day_of(now))
    moments = {
        "today": today + (now - today) / 2,
        "yesterday": now - timedelta(days=1),
        "next_year": now + timedelta(days=365),
        "created": now,
    }
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()  # upgrade to the head: the tables and the counting triggers
        session = promo.db.session
        program = LoyaltyProgram(name=f"{codes:,} codes", universal=False)
        session.add(program)
        session.commit()
        sqlite = promo.engine.dialect.name == "sqlite"
        if sqlite:  # stored as SQLAlchemy stores a DateTime on SQLite
            moments = {key: value.isoformat(" ", "microseconds") for key, value in moments.items()}
        with promo.engine.begin() as connection:
            connection.execute(
                text(SQLITE_FILL if sqlite else POSTGRES_FILL),
                {"program": program.id, "count": codes, "today_count": EXPIRED_TODAY, **moments},
            )
            if not sqlite:
                connection.execute(text("ANALYZE"))
        return program.id


def recount_seconds(app, loyalty_id: int) -> float:
    """One count of the program's codes by status the way the page counted before 0009."""
    with app.app_context():
        session = app.extensions["promo"].db.session
        now = utcnow()
        started = time.perf_counter()
        for status in STATUSES:
            session.scalar(
                select(func.count()).where(
                    PromoCode.loyalty_id == loyalty_id, status_condition(status, now)
                )
            )
        seconds = time.perf_counter() - started
        kept = program_summaries(session, loyalty_id=loyalty_id)[0]
        assert kept.total == count_codes(app.config["SQLALCHEMY_DATABASE_URI"], loyalty_id)
        return seconds


def signed_in(app):
    app.test_cli_runner().invoke(args=["promo", "create-admin", "bench", "--password", PASSWORD])
    client = app.test_client()
    login = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/admin/login", data={"csrf_token": token, "name": "bench", "password": PASSWORD})
    return client


def page_rows(backend: str, url_of, codes: int, small: int, times: int) -> list[Row]:
    """The overview and a program's page on a database of `codes` codes and one of `small`."""
    sites = {}
    with url_of("counts_big") as big_url, url_of("counts_small") as small_url:
        for size, url in ((codes, big_url), (small, small_url)):
            app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
            started = time.perf_counter()
            loyalty_id = fill(app, size)
            print(
                f"  {backend}: {size:,} codes written in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            sites[size] = (app, signed_in(app), loyalty_id)
        timings: dict[tuple[int, str], float] = {}
        for _ in range(times):  # alternating, so that a busy moment hits both sizes
            for size, (_app, client, loyalty_id) in sites.items():
                for screen, path in (
                    ("overview", "/admin/"),
                    ("program", f"/admin/programs/{loyalty_id}"),
                ):
                    seconds = best_of(client, path, 1)
                    key = (size, screen)
                    timings[key] = min(timings.get(key, float("inf")), seconds)
        before = {
            size: recount_seconds(app, loyalty_id) for size, (app, _c, loyalty_id) in sites.items()
        }
        for app, _client, _id in sites.values():
            with app.app_context():
                app.extensions["promo"].engine.dispose()
    rows = []
    for screen, what in (("overview", "the programs overview"), ("program", "a program's page")):
        large, base = timings[(codes, screen)], timings[(small, screen)]
        rows.append(
            Row(
                f"{what} at {codes:,} codes vs {small:,}, {backend}",
                f"{large * 1000:.1f} ms",
                f"{base * 1000:.1f} ms",
                large / base,
                "<= 1.5",
                f"best of {times}, alternating; counting as before 0009 took "
                f"{before[codes] * 1000:,.0f} ms vs {before[small] * 1000:.1f} ms",
            )
        )
    return rows


@contextmanager
def sqlite_database(name: str) -> Iterator[str]:
    yield sqlite_url(f"{name}.db")


def warm(port: int, body: str) -> None:
    # A worker still loading may time out: the warm-up round of wrk follows.
    with suppress(OSError):
        post(port, body)


TRIGGERS = (
    ("promo_code_counted_insert", "promo_code"),
    ("promo_code_counted_update", "promo_code"),
    ("promo_code_counted_delete", "promo_code"),
    ("promo_attachment_counted_insert", "promo_attachment"),
    ("promo_attachment_counted_delete", "promo_attachment"),
)


def attach_rows(args: argparse.Namespace) -> list[Row]:
    """Attach req/s on PostgreSQL, several workers, with the counting triggers and without."""
    with shops_with_and_without_triggers("postgresql", args.pool) as shops:
        counted_url, bare_url = shops["counted"].url, shops["bare"].url
        totals = {name: [0, 0.0] for name in shops}
        with (
            gunicorn("wsgi:app", {"DATABASE_URL": counted_url}, workers=args.workers) as counted,
            gunicorn("wsgi:app", {"DATABASE_URL": bare_url}, workers=args.workers) as bare,
        ):
            ports = {"counted": counted, "bare": bare}
            for name, port in ports.items():
                # Workers load the app after the port opens (seconds on a busy machine).
                for _ in range(2):
                    callers = [
                        threading.Thread(target=warm, args=(port, shops[name].attach_body()))
                        for _ in range(args.workers)
                    ]
                    for caller in callers:
                        caller.start()
                    for caller in callers:
                        caller.join()
                wrk(port, shops[name].attach_body(), 2, args.connections)
            for _ in range(args.rounds):
                for name, port in ports.items():
                    result = wrk(port, shops[name].attach_body(), args.seconds, args.connections)
                    print(
                        f"  {name}: {result['rps']:.0f} req/s {result['socket_errors']}", flush=True
                    )
                    assert result["non_2xx"] == 0, result
                    totals[name][0] += result["requests"]
                    totals[name][1] += args.seconds
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": counted_url})
        with app.app_context():
            session = app.extensions["promo"].db.session
            kept = program_summaries(session, loyalty_id=shops["counted"].loyalty_id)[0]
            given = session.scalar(
                select(func.count()).where(
                    PromoCode.loyalty_id == kept.id, PromoCode.free.is_(False)
                )
            )
            slots = session.scalar(text("SELECT count(DISTINCT slot) FROM promo_program_count"))
            app.extensions["promo"].engine.dispose()
    assert kept.attached == given, (kept.attached, given)
    rps = {name: requests / seconds for name, (requests, seconds) in totals.items()}
    server = (
        f"gunicorn -w {args.workers}, wrk -c {args.connections}, "
        f"{args.rounds}x{args.seconds:g}s alternating"
    )
    return [
        Row(
            f"attach from the pool on PostgreSQL, with the counting triggers vs without ({server})",
            f"{rps['counted']:.0f} req/s",
            f"{rps['bare']:.0f} req/s",
            rps["counted"] / rps["bare"],
            ">= 0.8",
            f"counted {kept.attached:,} given out = recount {given:,}, over {slots} slots",
        )
    ]


@contextmanager
def shops_with_and_without_triggers(backend: str, pool: int) -> Iterator[dict]:
    """Two shops alike, one without the counting triggers."""
    url_of = sqlite_database if backend == "sqlite" else postgres_database
    with url_of("counted") as counted_url, url_of("bare") as bare_url:
        shops = {"counted": make_shop(counted_url, pool), "bare": make_shop(bare_url, pool)}
        engine = create_engine(bare_url)
        with engine.begin() as connection:
            for trigger, table in TRIGGERS:
                on = f" ON {table}" if backend == "postgresql" else ""
                connection.execute(text(f"DROP TRIGGER {trigger}{on}"))
        engine.dispose()
        yield shops


def import_rows(args: argparse.Namespace) -> list[Row]:
    """`promo import-codes` of --import-codes codes with the counting triggers and without."""
    path = codes_file(args.import_codes)
    rows = []
    for backend in args.backends:
        times: dict[str, list[float]] = {"counted": [], "bare": []}
        for _ in range(args.import_runs):
            with shops_with_and_without_triggers(backend, 0) as shops:
                for name, shop in shops.items():
                    command = import_command(shop, path)
                    times[name].append(run_measured(command, {"DATABASE_URL": shop.url})[0])
        counted, bare = (statistics.median(times[name]) for name in ("counted", "bare"))
        rows.append(
            Row(
                f"import {args.import_codes:,} codes (promo import-codes), with the counting "
                f"triggers vs without, {backend}",
                f"{args.import_codes / counted:,.0f} rows/s ({counted:.1f} s)",
                f"{args.import_codes / bare:,.0f} rows/s ({bare:.1f} s)",
                bare / counted,
                "none",
                f"median of {args.import_runs}; the cost of counting each inserted code",
            )
        )
    return rows


def run_counts(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    if "page" in args.parts:
        for backend in args.backends:
            url_of = sqlite_database if backend == "sqlite" else postgres_database
            rows += page_rows(backend, url_of, args.codes, args.small, args.times)
    if "attach" in args.parts:
        rows += attach_rows(args)
    if "import" in args.parts:
        rows += import_rows(args)
    return rows


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--small", type=int, default=1_000, help="the small program's codes")
    parser.add_argument("--times", type=int, default=7, help="page loads per screen and size")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--parts", nargs="+", default=["page", "attach", "import"])
    parser.add_argument("--import-codes", type=int, default=200_000, help="codes (import)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (attach)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=10_000_000)
    parser.add_argument("--pool", type=int, default=200_000, help="free codes to attach from")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--import-runs", type=int, default=3)
    add_options(parser)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    for row in run_counts(args):
        print(
            f"{row.what}\n    {row.measured} vs {row.baseline}: ratio {row.ratio:.2f} "
            f"(target {row.target})  {row.note}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
