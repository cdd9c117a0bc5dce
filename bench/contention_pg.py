"""64 clients drawing from one pool on PostgreSQL against 8: req/s, p99, and no code twice.

One shop on a PostgreSQL database of the benchmark's own, one pool of --codes free codes,
one gunicorn (2 sync workers, as the other PostgreSQL rows). wrk loads the same server with
8 connections, then with 64, in alternating rounds (the order reversed every other round).
A sync worker answers one request at a time and holds one connection of its SQLAlchemy pool
while it does (5 + 10 overflow per worker, never more than one in use): the clients beyond
the two being served wait in gunicorn's listen backlog (2048), not for a database connection.
After each load it waits for the requests wrk left queued (they would otherwise be answered
in the next round's time). At the end it counts, in the database, the attachments of the
pool's codes against the distinct codes among them, and the connections the server held.
Usage:

    .venv/bin/python bench/contention_pg.py [--rounds 3] [--seconds 8] [--codes 100000]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

bench/run.py runs it as its `contention` row (PostgreSQL).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, ROOT, Row, make_shop
from compare import alternating_rounds, workers_cpu_seconds
from latency_pg import fill_pool, wrk
from round_trips import DEFAULT_URL, admin, drop_database
from servers import gunicorn, post
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.pool import NullPool

from promo_app.models import Attachment, PromoCode

FEW, MANY = 8, 64
WORKERS = 2


def database_name() -> str:
    """A name of the run's own, saying which checkout made it (its folder's name)."""
    checkout = re.sub(r"[^a-z0-9]+", "_", ROOT.name.lower())
    return f"promo_bench_contention_{checkout}_{secrets.token_hex(3)}"


def drain(port: int, body: str) -> None:
    """Wait for the requests wrk left in the server's backlog when it stopped (up to one per
    connection), which the workers still answer: else they would take the next round's time."""
    with ThreadPoolExecutor(max_workers=WORKERS) as callers:
        list(callers.map(lambda _n: post(port, body), range(WORKERS)))


def held_twice(url: str, loyalty_id: int) -> dict[str, int]:
    """The pool's attachments, the distinct codes and code ids among them, the codes no
    longer free, and the connections open to the database (the server's included)."""
    engine = create_engine(url, poolclass=NullPool)
    attached = (
        select(
            func.count().label("attachments"),
            func.count(func.distinct(Attachment.code_id)).label("code_ids"),
            func.count(func.distinct(PromoCode.code)).label("codes"),
        )
        .join(PromoCode, PromoCode.id == Attachment.code_id)
        .where(PromoCode.loyalty_id == loyalty_id)
    )
    taken = select(func.count()).where(
        PromoCode.loyalty_id == loyalty_id, PromoCode.free.is_(False)
    )
    with engine.connect() as connection:
        counts = dict(connection.execute(attached).one()._mapping)
        counts["taken"] = connection.scalar(taken)
        counts["connections"] = connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        )
    engine.dispose()
    return counts


def measure(args: argparse.Namespace) -> dict:
    """Run the rounds on a database of the run's own; return the figures."""
    server = make_url(args.url)
    name = database_name()
    engine = admin(server)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        shop = make_shop(url, 0)
        fill_pool(url, shop.loyalty_id, args.codes)
        body = shop.attach_body()
        results: dict[str, list[dict]] = {str(FEW): [], str(MANY): []}
        with gunicorn("wsgi:app", {"DATABASE_URL": url}, workers=WORKERS) as port:
            for _call in range(20):  # each worker loads the app on its first call
                with contextlib.suppress(TimeoutError):
                    post(port, body)
            wrk(port, body, 2, MANY)  # warm up
            drain(port, body)

            def load(clients: str, seconds: float) -> dict:
                result = wrk(port, body, seconds, int(clients))
                drain(port, body)
                results[clients].append(result)
                return result

            ports = dict.fromkeys(results, port)
            before = workers_cpu_seconds(port)
            requests, _cpu, _rounds = alternating_rounds(ports, load, args.rounds, args.seconds)
            cpu = workers_cpu_seconds(port) - before
            counts = held_twice(url, shop.loyalty_id)
    finally:
        drop_database(server, name)
    elapsed = args.rounds * args.seconds
    figures = {
        clients: {
            "rps": requests[clients] / elapsed,
            "p99_ms": max(result["p99_ms"] for result in every),
            "non_2xx": sum(result["non_2xx"] for result in every),
        }
        for clients, every in results.items()
    }
    return {
        "figures": figures,
        "ratio": figures[str(MANY)]["rps"] / figures[str(FEW)]["rps"],
        "counts": counts,
        "cpu_us": cpu / max(1, sum(requests.values())) * 1e6,
        "load": os.getloadavg()[0],
    }


def report(args: argparse.Namespace, result: dict) -> None:
    print(
        f"PostgreSQL, one pool of {args.codes:,} codes, gunicorn -w {WORKERS}, wrk -c {FEW} "
        f"and -c {MANY}, {args.rounds}x{args.seconds:g}s alternating, "
        f"load average {result['load']:.1f}:"
    )
    for clients, figure in result["figures"].items():
        print(
            f"  {clients:>3} clients {figure['rps']:8.1f} req/s   p99 {figure['p99_ms']:7.1f} ms"
            f"   non-2xx {figure['non_2xx']}"
        )
    print(f"  {MANY} / {FEW}: {result['ratio']:.2f} (goal: at least 0.9)")
    counts = result["counts"]
    print(
        f"  attachments {counts['attachments']}, distinct codes {counts['codes']} (code ids "
        f"{counts['code_ids']}), codes taken from the pool {counts['taken']}: "
        + ("none held twice" if is_clean(counts) else "A CODE IS HELD TWICE")
    )
    print(
        f"  workers' CPU {result['cpu_us']:.0f} us per request; connections open to the "
        f"database after the load: {counts['connections'] - 1} (besides the count's own)"
    )


def is_clean(counts: dict[str, int]) -> bool:
    return counts["attachments"] == counts["codes"] == counts["code_ids"] == counts["taken"]


def rows(args: argparse.Namespace) -> list[Row]:
    """bench/run.py's `contention` row."""
    options = argparse.Namespace(
        url=os.environ.get("PROMO_BENCH_POSTGRES_URL", DEFAULT_URL),
        codes=args.pool,
        rounds=args.rounds,
        seconds=args.seconds,
    )
    result = measure(options)
    report(options, result)
    few, many = result["figures"][str(FEW)], result["figures"][str(MANY)]
    bad = few["non_2xx"] + many["non_2xx"]
    counts = result["counts"]
    return [
        Row(
            f"attach from one pool on PostgreSQL, {MANY} clients vs {FEW} (gunicorn -w {WORKERS}, "
            f"{args.rounds}x{args.seconds:g}s alternating)",
            f"{many['rps']:.0f} req/s (p99 {many['p99_ms']:.0f} ms)",
            f"{few['rps']:.0f} req/s (p99 {few['p99_ms']:.0f} ms)",
            result["ratio"],
            ">= 0.9",
            f"{counts['attachments']} codes drawn, "
            + ("none twice" if is_clean(counts) else "SOME TWICE")
            + f", {bad} non-2xx",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--codes", type=int, default=100_000, help="free codes in the pool")
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL server (superuser)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    result = measure(args)
    report(args, result)
    bad = sum(figure["non_2xx"] for figure in result["figures"].values())
    if bad or not is_clean(result["counts"]):
        sys.exit(f"{bad} answers were not 2xx, or a code is held twice")


if __name__ == "__main__":
    main()
