"""Pool draws with 1,000,000 expired codes ahead of the fresh ones, against a pool with none.

    .venv/bin/python bench/expired_draw.py [--expired 1000000] [--calls 2000]
                                           [--db sqlite postgresql]

Each database gets two shops served by gunicorn (2 sync workers): "ahead" (its program holds
`--expired` codes that expired yesterday, then 20,000 fresh ones) and "none" (20,000 fresh
codes only); each shop has a second, bystander program of 20,000 fresh codes. The first draw
of "ahead" meets the expired codes (its time is printed); draws go on until the sweep is done
(on PostgreSQL a draw marks a bounded share, see promo_app/pool.py), then PostgreSQL is
vacuumed as its autovacuum would be within a minute. Then `--calls` sequential draws from
each program, interleaved by 20, give p50 and p99. PostgreSQL runs on
PROMO_TEST_POSTGRES_URL's server (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
in a database of its own that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import timedelta

from common import OUT, Row, make_shop, sqlite_url, table
from servers import gunicorn, percentile, post
from sqlalchemy import create_engine, insert, make_url, text

from promo_app.models import PromoCode
from promo_app.times import utcnow

FRESH = 20_000
PER_ROUND = 20


def add_codes(url: str, loyalty_id: int, prefix: str, count: int, expire_date) -> None:
    """Add `count` free codes to a program, in id order, 50,000 to a transaction."""
    engine = create_engine(url)
    now = utcnow()
    for start in range(0, count, 50_000):
        rows = [
            {
                "loyalty_id": loyalty_id,
                "code": f"{prefix}-{n:08d}",
                "expire_date": expire_date,
                "created": now,
            }
            for n in range(start, min(start + 50_000, count))
        ]
        with engine.begin() as connection:
            connection.execute(insert(PromoCode), rows)
    engine.dispose()


def body(shop, loyalty_id: int) -> str:
    return json.dumps(
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": loyalty_id,
            "profile_id": shop.profile_id,
        }
    )


def postgres_database() -> tuple[str, str]:
    server = make_url(
        os.environ.get("PROMO_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    name = f"bench_expired_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), name


def drop_postgres(name: str) -> None:
    server = make_url(
        os.environ.get("PROMO_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def vacuum(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE promo_code"))
    engine.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> list[Row]:
    dropped: list[str] = []
    if backend == "sqlite":
        urls = {"ahead": sqlite_url("expired-ahead.db"), "none": sqlite_url("expired-none.db")}
    else:
        urls = {}
        for name in ("ahead", "none"):
            urls[name], database = postgres_database()
            dropped.append(database)
    try:
        shops = {name: make_shop(url, free_codes=0) for name, url in urls.items()}
        yesterday = utcnow() - timedelta(days=1)
        add_codes(urls["ahead"], shops["ahead"].loyalty_id, "OLD", args.expired, yesterday)
        for name, shop in shops.items():
            add_codes(urls[name], shop.loyalty_id, "NEW", FRESH, None)
            add_codes(urls[name], shop.import_loyalty_id, "BY", FRESH, None)
        if backend == "postgresql":
            for url in urls.values():
                vacuum(url)  # the statistics a running shop has, before the draws
        samples = {key: [] for key in ("ahead", "none", "by-ahead", "by-none")}
        with (
            gunicorn("wsgi:app", {"DATABASE_URL": urls["ahead"]}) as ahead_port,
            gunicorn("wsgi:app", {"DATABASE_URL": urls["none"]}) as none_port,
        ):
            calls = {
                "ahead": (ahead_port, body(shops["ahead"], shops["ahead"].loyalty_id)),
                "none": (none_port, body(shops["none"], shops["none"].loyalty_id)),
                "by-ahead": (ahead_port, body(shops["ahead"], shops["ahead"].import_loyalty_id)),
                "by-none": (none_port, body(shops["none"], shops["none"].import_loyalty_id)),
            }
            for key in ("by-ahead", "by-none"):
                for _ in range(PER_ROUND):
                    post(*calls[key])  # the workers have booted and connected
            status, first = post(*calls["ahead"])
            assert status == 200, status
            sweeping, started = 1, time.perf_counter()
            while True:  # until a draw is as quick as a draw of the clean pool
                status, seconds = post(*calls["ahead"])
                assert status == 200, status
                sweeping += 1
                if seconds < 0.02 or sweeping > 2_000:
                    break
            sweep_time = time.perf_counter() - started + first
            if backend == "postgresql":
                vacuum(urls["ahead"])
            for port, payload in calls.values():
                post(port, payload)  # warm up
            for _ in range(args.calls // PER_ROUND):
                for key, (port, payload) in calls.items():
                    for _ in range(PER_ROUND):
                        status, seconds = post(port, payload)
                        assert status == 200, f"{key}: {status}"
                        samples[key].append(seconds)
    finally:
        for name in dropped:
            drop_postgres(name)
    rows = []
    note = (
        f"{args.calls} sequential calls each, interleaved by {PER_ROUND}; the first draw that "
        f"met the expired codes took {first * 1000:.0f} ms, {sweeping} draws "
        f"({sweep_time:.1f} s) until the sweep was done"
        + ("; VACUUM ANALYZE after it, as autovacuum" if backend == "postgresql" else "")
    )
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        for what, key, base in (("draw", "ahead", "none"), ("bystander", "by-ahead", "by-none")):
            measured = percentile(samples[key], fraction) * 1000
            baseline = percentile(samples[base], fraction) * 1000
            rows.append(
                Row(
                    f"{backend}: {what} {label}, {args.expired:,} expired codes ahead vs none",
                    f"{measured:.2f} ms",
                    f"{baseline:.2f} ms",
                    measured / baseline,
                    "<= 1.2",
                    note,
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument(
        "--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for backend in args.db:
        print(f"Running {backend} ...", flush=True)
        rows.extend(run_backend(backend, args))
    print(table(rows))
    for row in rows:
        print(f"- {row.what}: {row.note}")


if __name__ == "__main__":
    sys.exit(main())
