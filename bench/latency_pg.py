"""Attach throughput and p99 with PostgreSQL behind a link of a given round-trip time.

PostgreSQL is reached through bench/delay_relay.py, which delays every byte by half the RTT
each way (the kernel's `tc netem` is missing on this machine's kernel). gunicorn (2 workers)
serves, wrk (32 connections) loads it. Each round loads each server in turn (alternating, on
one database): the service now (wsgi:app), as it was before the one-statement pool draw
(bench/baselines/full_path_app.py), and the floor: the same statement on raw psycopg
(bench/baselines/floor_pg_app.py). Usage:

    .venv/bin/python bench/latency_pg.py [--rtt-ms 1] [--rounds 3] [--seconds 10]
        [--connections 32] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import OUT, make_shop  # noqa: E402
from servers import ATTACH_PATH, gunicorn, post  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench.round_trips import DEFAULT_URL, admin, drop_database  # noqa: E402
from promo_app.times import utcnow  # noqa: E402

SERVERS = {
    "now": "wsgi:app",
    "before": "bench.baselines.full_path_app:app",
    "floor": "bench.baselines.floor_pg_app:app",
}


@contextmanager
def delay_relay(rtt_ms: float, host: str, port: int) -> Iterator[int]:
    """Start the relay to host:port with `rtt_ms` round-trip time; yield its port."""
    relay = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "delay_relay.py"),
            f"{rtt_ms / 2:g}",
            host,
            str(port),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield int(relay.stdout.readline())
    finally:
        relay.terminate()
        relay.wait(timeout=15)
        relay.stdout.close()


def fill_pool(url: str, loyalty_id: int, codes: int) -> None:
    """Add `codes` free codes to the pool in one INSERT … SELECT: make_shop's executemany
    runs the counting trigger once per code on PostgreSQL (minutes for 100,000)."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO promo_code (loyalty_id, code, created) "
                "SELECT :program, 'POOL-' || lpad(i::text, 8, '0'), :now "
                "FROM generate_series(0, :count - 1) AS i"
            ),
            {"program": loyalty_id, "now": utcnow(), "count": codes},
        )
    engine.dispose()


def wrk(port: int, body: str, seconds: float, connections: int) -> dict:
    command = [
        *("wrk", "--latency", "--threads", "2"),
        *("--connections", str(connections), "--duration", f"{seconds:g}s"),
        *("--script", str(ROOT / "bench" / "attach.lua"), f"http://127.0.0.1:{port}{ATTACH_PATH}"),
    ]
    output = subprocess.run(
        command, env={**os.environ, "BENCH_BODY": body}, capture_output=True, text=True, check=True
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p99_ms": float(p99.group(1)) * scale,
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


def measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Load the three servers in alternating rounds on a database of the run's own; print and
    return each one's req/s, worst p99 and non-2xx answers."""
    OUT.mkdir(parents=True, exist_ok=True)
    server = make_url(args.url)
    name = f"promo_bench_rtt_{secrets.token_hex(4)}"
    engine = admin(server)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    try:
        shop = make_shop(server.set(database=name).render_as_string(False), 0)
        fill_pool(server.set(database=name).render_as_string(False), shop.loyalty_id, args.codes)
        with ExitStack() as stack:
            relay = stack.enter_context(
                delay_relay(args.rtt_ms, server.host or "127.0.0.1", server.port or 5432)
            )
            url = server.set(host="127.0.0.1", port=relay, database=name)
            env = {"DATABASE_URL": url.render_as_string(False)}
            ports = {
                label: stack.enter_context(gunicorn(spec, env)) for label, spec in SERVERS.items()
            }
            body = shop.attach_body()
            for port in ports.values():
                # Warm up: each worker loads the app on its first call, then makes its pool.
                for _call in range(20):
                    # A worker may still be loading the app on a busy machine: go on.
                    with contextlib.suppress(TimeoutError):
                        post(port, body)
                wrk(port, body, 2, args.connections)
            totals = {label: [] for label in ports}
            for _round in range(args.rounds):
                for label, port in ports.items():
                    totals[label].append(wrk(port, body, args.seconds, args.connections))
    finally:
        drop_database(server, name)
    load = os.getloadavg()[0]
    print(
        f"PostgreSQL at {args.rtt_ms:g} ms RTT, gunicorn -w 2, wrk -c {args.connections}, "
        f"{args.rounds}x{args.seconds:g}s alternating, load average {load:.1f}:"
    )
    figures = {}
    for label, results in totals.items():
        figures[label] = {
            "rps": sum(result["requests"] for result in results) / (args.rounds * args.seconds),
            "p99_ms": max(result["p99_ms"] for result in results),
            "non_2xx": sum(result["non_2xx"] for result in results),
        }
        figure = figures[label]
        print(
            f"  {label:<7} {figure['rps']:8.1f} req/s   p99 {figure['p99_ms']:7.1f} ms   "
            f"non-2xx {figure['non_2xx']}"
        )
    print(f"  now / before: {figures['now']['rps'] / figures['before']['rps']:.2f}")
    print(f"  now / floor:  {figures['now']['rps'] / figures['floor']['rps']:.2f}")
    return figures


def rows(args: argparse.Namespace) -> list:
    """bench/run.py's `latency-pg` rows: now against before and against the floor, at 1 ms."""
    from common import Row

    options = argparse.Namespace(
        rtt_ms=1.0,
        rounds=args.rounds,
        seconds=args.seconds,
        connections=32,
        codes=args.pool,
        url=os.environ.get("PROMO_BENCH_POSTGRES_URL", DEFAULT_URL),
    )
    figures = measure(options)
    now = figures["now"]
    setting = f"PostgreSQL at 1 ms RTT, gunicorn -w 2, wrk -c 32, {args.rounds}x{args.seconds:g}s"
    return [
        Row(
            f"attach from the pool, req/s, {setting}: now vs {label}",
            f"{now['rps']:.0f} req/s (p99 {now['p99_ms']:.0f} ms)",
            f"{figures[label]['rps']:.0f} req/s (p99 {figures[label]['p99_ms']:.0f} ms), {what}",
            now["rps"] / figures[label]["rps"],
            target,
            f"non-2xx: {now['non_2xx']} and {figures[label]['non_2xx']}",
        )
        for label, what, target in (
            ("before", "the full path of six statements", ">= 3"),
            ("floor", "the same statement on raw psycopg", ">= 0.85"),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--codes", type=int, default=200_000, help="free codes in the pool")
    parser.add_argument("--url", default=DEFAULT_URL)
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
