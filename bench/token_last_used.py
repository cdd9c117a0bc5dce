"""Attach throughput with a token's last use recorded as shipped (one write a minute per token
and process), never recorded, and recorded on every call, side by side.

    .venv/bin/python bench/token_last_used.py [--rounds 6] [--seconds 3] [--pool 100000]

Each contender is its own gunicorn (2 sync workers) on its own SQLite shop, loaded by wrk in
alternating rounds (the order reversed every other round); the figure is the median of the
per-round ratios to "not recorded" (bench/baselines/token_use_off.py), with the workers' CPU
time per request from /proc. The target: as shipped >= 0.97 of not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, make_shop, sqlite_url
from compare import alternating_rounds
from servers import gunicorn, wrk

CONTENDERS = {
    "as shipped": "wsgi:app",
    "not recorded": "bench.baselines.token_use_off:app",
    "every call": "bench.baselines.token_use_every_call:app",
}
BASELINE = "not recorded"
TARGET = 0.97


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--pool", type=int, default=100_000, help="free codes for each")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    shops = {
        name: make_shop(sqlite_url(f"last-used-{n}.db"), free_codes=args.pool)
        for n, name in enumerate(CONTENDERS)
    }
    with ExitStack() as servers:
        ports = {
            name: servers.enter_context(gunicorn(spec, {"DATABASE_URL": shops[name].url}))
            for name, spec in CONTENDERS.items()
        }

        def load(name: str, seconds: float) -> dict[str, float]:
            result = wrk(ports[name], shops[name].attach_body(), seconds, args.connections)
            if result["non_2xx"]:
                raise SystemExit(f"{name}: {result['non_2xx']} answers were not 2xx")
            return result

        for name in CONTENDERS:
            load(name, 1)  # warm up
        names = list(CONTENDERS)
        requests, cpu, rounds = alternating_rounds(ports, load, args.rounds, args.seconds)
    elapsed = args.rounds * args.seconds
    print(f"{'':13} {'req/s':>7} {'ratio':>6} {'median':>7} {'CPU us/request':>15}")
    # A round in which the baseline got no answer at all (a machine too busy) has no ratio.
    rounds = [r for r in rounds if r[BASELINE] > 0] or [dict.fromkeys(names, 1.0)]
    for name in names:
        median = statistics.median(r[name] / r[BASELINE] for r in rounds)
        print(
            f"{name:13} {requests[name] / elapsed:7.0f} "
            f"{requests[name] / requests[BASELINE]:6.3f} {median:7.3f} "
            f"{cpu[name] / requests[name] * 1e6:15.0f}"
        )
    shipped = statistics.median(r["as shipped"] / r[BASELINE] for r in rounds)
    verdict = "ok" if shipped >= TARGET else "missed"
    print(f"as shipped / not recorded: {shipped:.3f} (target >= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
