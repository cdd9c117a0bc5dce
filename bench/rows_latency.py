"""bench/run.py's `latency` rows: attach p50 and p99 with a large pool against a small one."""

from __future__ import annotations

import argparse
from contextlib import ExitStack

from common import Row, Shop, add_free_codes, make_shop, sqlite_url
from servers import gunicorn, percentile, post
from sqlalchemy import create_engine


def interleaved_attach(
    shops: dict[str, Shop], rounds: int, per_round: int = 20
) -> dict[str, list[float]]:
    """Time sequential attach calls to each shop (a gunicorn each), interleaved by `per_round`;
    after each round the calls' codes are put back (new free codes, outside the timed calls),
    so that the pools keep their sizes. Return each shop's latencies in seconds."""
    samples: dict[str, list[float]] = {name: [] for name in shops}
    with ExitStack() as stack:
        ports = {
            name: stack.enter_context(gunicorn("wsgi:app", {"DATABASE_URL": shop.url}))
            for name, shop in shops.items()
        }
        engines = {name: create_engine(shop.url) for name, shop in shops.items()}
        for name, port in ports.items():
            for _ in range(per_round):
                post(port, shops[name].attach_body())  # warm up
            add_free_codes(engines[name], shops[name], range(per_round), "BACK")
        for number in range(1, rounds + 1):
            for name, port in ports.items():
                body = shops[name].attach_body()
                for _ in range(per_round):
                    status, seconds = post(port, body)
                    assert status == 200, f"attach answered {status}"
                    samples[name].append(seconds)
                numbers = range(number * per_round, (number + 1) * per_round)
                add_free_codes(engines[name], shops[name], numbers, "BACK")
        for engine in engines.values():
            engine.dispose()
    return samples


def bench_latency(args: argparse.Namespace) -> list[Row]:
    """Attach latency with a large pool against a small one, interleaved in rounds.

    After each round the calls' codes are put back (new free codes, outside the timed
    calls), so that the pools keep their sizes however many calls are made. Many calls
    are needed: an attach writes about ten pages to the WAL and the service checkpoints
    every 10,000, so about one call in a thousand pays for a checkpoint; a p99 taken over a
    few hundred calls is mostly chance.
    """
    shops = {
        "big": make_shop(sqlite_url("latency-big.db"), free_codes=args.codes),
        "small": make_shop(sqlite_url("latency-small.db"), free_codes=1000),
    }
    per_round = 20
    samples = interleaved_attach(shops, args.latency_rounds, per_round)
    note = (
        f"{len(samples['big'])} sequential calls each, interleaved by {per_round}; "
        "each pool topped up after each round"
    )
    return latency_rows(samples, f"{args.codes:,} free codes vs 1,000", note)


def latency_rows(samples: dict[str, list[float]], what: str, note: str) -> list[Row]:
    """The p50 and p99 rows of `samples["big"]` against `samples["small"]` (<= 1.2)."""
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        big = percentile(samples["big"], fraction) * 1000
        small = percentile(samples["small"], fraction) * 1000
        rows.append(
            Row(
                f"attach {label} latency, {what}",
                f"{big:.2f} ms",
                f"{small:.2f} ms",
                big / small,
                "<= 1.2",
                note,
            )
        )
    return rows
