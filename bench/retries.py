"""Attach throughput with an Idempotency-Key, with a replayed key, and with the rate limiter on
or off, each against a plain attach of this checkout in the same rounds.

    .venv/bin/python bench/retries.py [--rounds 6] [--seconds 3] [--pool 100000] [--baseline DIR]

Each contender is its own gunicorn (2 sync workers) on its own SQLite shop, loaded by wrk in
alternating rounds; the figure is the median of the per-round ratios to "plain" (attach from
the pool, no key, settings as shipped: the limiter on, no API limit), with the workers' CPU
time per request from /proc. The targets are issue 15's: a new key per call >= 0.85 of plain,
a replay at least as fast as a draw (>= 1.0), a per-token limit in memory >= 0.9 of the limiter
switched off, and a plain attach with its event >= 0.95 of the same checkout writing no event
(bench/baselines/events_off.py).

Every attach here also writes its event in the history (promo_event). With `--baseline DIR`
(a checkout of main from before the history: `git worktree add --detach DIR <commit>`), a
sixth contender, "baseline", serves a plain attach from that checkout, and the targets of
issue 15 are taken against it: a new key per call (and its event) >= 0.85 of the baseline,
a plain attach (and its event) >= 0.95.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, ROOT, make_shop, sqlite_url
from compare import alternating_rounds, make_shop_in
from servers import gunicorn, wrk

# name: (server settings, wrk script, wrk environment[, app]); the baseline's comes from
# --baseline. "no event" is this checkout with the history's events not written.
CONTENDERS = {
    "plain": ({}, "attach.lua", {}),
    "new key": ({}, "attach_keyed.lua", {"BENCH_KEY_PREFIX": "k"}),
    "replay": ({}, "attach_keyed.lua", {"BENCH_KEY": "one-key"}),
    "limit on": ({"PROMO_RATELIMIT_ATTACH": "1000000000 per hour"}, "attach.lua", {}),
    "limiter off": ({"PROMO_RATELIMIT_ENABLED": "false"}, "attach.lua", {}),
    "no event": ({}, "attach.lua", {}, "bench.baselines.events_off:app"),
}
# (contender, against, bound): the contender's req/s at least bound times against's.
TARGETS = [
    ("new key", "plain", 0.85),
    ("replay", "plain", 1.0),
    ("limit on", "limiter off", 0.9),
    ("plain", "no event", 0.95),
]
BASELINE_TARGETS = [("new key", "baseline", 0.85), ("plain", "baseline", 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--pool", type=int, default=100_000, help="free codes for each")
    parser.add_argument("--baseline", type=Path, help="a checkout to serve a plain attach from")
    args = parser.parse_args()
    contenders = dict(CONTENDERS)
    targets = list(TARGETS)
    checkouts = dict.fromkeys(contenders, ROOT)
    if args.baseline is not None:
        contenders["baseline"] = ({}, "attach.lua", {})
        checkouts["baseline"] = args.baseline.resolve()
        targets += BASELINE_TARGETS
    OUT.mkdir(parents=True, exist_ok=True)
    # Each checkout makes its shop with its own code: the baseline serves from its own schema.
    shops = {
        name: make_shop_in(checkouts[name], sqlite_url(f"retries-{n}.db"), args.pool)
        if checkouts[name] != ROOT
        else make_shop(sqlite_url(f"retries-{n}.db"), free_codes=args.pool)
        for n, name in enumerate(contenders)
    }
    with ExitStack() as servers:
        ports = {
            name: servers.enter_context(
                gunicorn(
                    app[0] if app else "wsgi:app",
                    {"DATABASE_URL": shops[name].url, **settings},
                    checkout=checkouts[name],
                )
            )
            for name, (settings, _script, _env, *app) in contenders.items()
        }

        def load(name: str, seconds: float) -> dict[str, float]:
            _settings, script, env, *_app = contenders[name]
            if "BENCH_KEY_PREFIX" in env:  # keys never seen before, in every round
                env = {"BENCH_KEY_PREFIX": f"{secrets.token_hex(4)}-"}
            result = wrk(
                ports[name], shops[name].attach_body(), seconds, args.connections, script, env
            )
            if result["non_2xx"]:
                raise SystemExit(f"{name}: {result['non_2xx']} answers were not 2xx")
            return result

        for name in contenders:
            # Warm up until both workers answer (on a busy machine a worker takes seconds to
            # start); the replay's key gets its answer here.
            answered = 0
            for _ in range(20):
                answered = answered + 1 if load(name, 1)["requests"] else 0
                if answered == 2:
                    break
        names = list(contenders)
        requests, cpu, rounds = alternating_rounds(ports, load, args.rounds, args.seconds)
    elapsed = args.rounds * args.seconds
    print(f"{'':12} {'req/s':>7} {'CPU us/request':>15}")
    for name in names:
        print(f"{name:12} {requests[name] / elapsed:7.0f} {cpu[name] / requests[name] * 1e6:15.0f}")
    print("ratio (median of rounds), target")
    for name, against, bound in targets:
        ratio = statistics.median(r[name] / r[against] for r in rounds)
        verdict = "ok" if ratio >= bound else "MISSED"
        print(f"{name:12} {ratio:.3f} of {against:12} >= {bound} {verdict}")


if __name__ == "__main__":
    main()
