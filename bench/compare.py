"""Compare the attach throughput of this checkout with another one (a branch, a trial).

    git worktree add ../trial some-branch
    .venv/bin/python bench/compare.py ../trial [--rounds 8] [--seconds 3] [--env NAME=VALUE]
    .venv/bin/python bench/compare.py --webhook [--rounds 8] [--seconds 3]

With --webhook the other checkout is this one (unless named), served with PROMO_WEBHOOK_URL
pointing at a receiver on loopback in this process: what the alert webhook costs attach.

Both serve attach from a pool under gunicorn (2 sync workers) next to the bare Flask view
of the throughput row, loaded by wrk in alternating rounds (the order reversed every other
round). It prints requests/s and the ratio to the bare view for each, the median of the
per-round ratios, and the workers' CPU time per request read from /proc: on a machine
whose speed drifts by several percent from one round to the next, that figure and the
median show a change of a few percent that the totals alone would hide.

Each checkout makes its own shop with its own code (the other one in a process of its own),
so that each serves from the schema and indexes it was written for.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, OUT, ROOT, Shop, make_shop, sqlite_url
from servers import SERVERS, gunicorn, wrk

# Run in the other checkout: from `run`, which has make_shop in old checkouts and new ones.
MAKE_SHOP = """
import dataclasses, json, sys
sys.path.insert(0, "bench")
from run import make_shop
print(json.dumps(dataclasses.asdict(make_shop(sys.argv[1], int(sys.argv[2])))))
"""


def alternating_rounds(
    ports: dict[str, int],
    load: Callable[[str, float], dict[str, float]],
    count: int,
    seconds: float,
) -> tuple[dict[str, int], dict[str, float], list[dict[str, float]]]:
    """Load each server of `ports` for `seconds` with `load(name, seconds)` (wrk's result),
    `count` rounds, the order reversed every other round, and print each round; return the
    requests and the workers' CPU seconds of each server, and each round's requests/s."""
    names = list(ports)
    requests = dict.fromkeys(names, 0)
    cpu = dict.fromkeys(names, 0.0)
    rounds = []
    for number in range(count):
        this_round = {}
        for name in names if number % 2 == 0 else names[::-1]:
            before = workers_cpu_seconds(ports[name])
            result = load(name, seconds)
            cpu[name] += workers_cpu_seconds(ports[name]) - before
            requests[name] += result["requests"]
            this_round[name] = result["rps"]
        print(
            f"round {number + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in this_round.items()),
            flush=True,
        )
        rounds.append(this_round)
    return requests, cpu, rounds


def make_shop_in(checkout: Path, url: str, free_codes: int) -> Shop:
    """Make the shop with `checkout`'s own code (its bench/run.py), in a process of its own."""
    output = subprocess.run(
        [BIN / "python", "-c", MAKE_SHOP, url, str(free_codes)],
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fields = json.loads(output.strip().splitlines()[-1])
    return Shop(**{field.name: fields[field.name] for field in dataclasses.fields(Shop)})


def workers_cpu_seconds(port: int) -> float:
    """CPU time (user + system) used so far by the workers of the gunicorn on `port`."""
    master = SERVERS[port].pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A receiver of the alert webhook on a loopback port the OS picks: (URL, bodies)."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", bodies
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "other", type=Path, nargs="?", help="the other checkout (with --webhook: this one)"
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--pool", type=int, default=300_000, help="free codes for each")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the other checkout's server"
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="serve the other with PROMO_WEBHOOK_URL set (a receiver in this process)",
    )
    args = parser.parse_args()
    if args.other is None and not args.webhook:
        parser.error("name the other checkout, or give --webhook")
    args.other = args.other or ROOT
    other_env = dict(item.split("=", 1) for item in args.env)
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as receiving:
        received: list[bytes] = []
        if args.webhook:
            url, received = receiving.enter_context(webhook_receiver())
            other_env |= {"PROMO_WEBHOOK_URL": url, "PROMO_WEBHOOK_SECRET": "bench-webhook-secret"}
        compare(args, other_env)
        if args.webhook:
            print(f"webhook events received: {len(received)} (the pools never ran low)")


def compare(args: argparse.Namespace, other_env: dict[str, str]) -> None:
    this_shop = make_shop(sqlite_url("compare-this.db"), free_codes=args.pool)
    other_shop = make_shop_in(args.other.resolve(), sqlite_url("compare-other.db"), args.pool)
    with ExitStack() as servers:
        contenders = [
            ("this", servers.enter_context(gunicorn("wsgi:app", {"DATABASE_URL": this_shop.url}))),
            (
                "other",
                servers.enter_context(
                    gunicorn(
                        "wsgi:app",
                        {"DATABASE_URL": other_shop.url, **other_env},
                        checkout=args.other.resolve(),
                    )
                ),
            ),
            (
                "bare",
                servers.enter_context(gunicorn("bench.baselines.bare_app:app", {}, checkout=ROOT)),
            ),
        ]
        bodies = {"this": this_shop.attach_body(), "other": other_shop.attach_body()}
        bodies["bare"] = bodies["this"]
        for name, port in contenders:
            wrk(port, bodies[name], 1, args.connections)  # warm up
        ports = dict(contenders)

        def load(name: str, seconds: float) -> dict[str, float]:
            result = wrk(ports[name], bodies[name], seconds, args.connections)
            if result["non_2xx"]:
                raise SystemExit(f"{name}: {result['non_2xx']} answers were not 2xx")
            return result

        requests, cpu, every_round = alternating_rounds(ports, load, args.rounds, args.seconds)
    rounds = []
    for number, this_round in enumerate(every_round, 1):
        if min(this_round.values()) == 0:
            # A machine so busy that a server answered nothing in the round: no ratio.
            print(f"round {number} left out of the medians: a server answered nothing")
        else:
            rounds.append(this_round)
    if not rounds or not all(requests.values()):
        raise SystemExit("Too busy a machine: no round where every server answered.")
    elapsed = args.rounds * args.seconds
    print(f"{'':6} {'req/s':>7} {'vs bare':>8} {'median':>7} {'CPU us/request':>15}")
    for name in bodies:
        median = statistics.median(r[name] / r["bare"] for r in rounds)
        print(
            f"{name:6} {requests[name] / elapsed:7.0f} "
            f"{requests[name] / requests['bare']:8.3f} {median:7.3f} "
            f"{cpu[name] / requests[name] * 1e6:15.0f}"
        )
    per_round = [r["other"] / r["this"] for r in rounds]
    print(
        f"other / this: {requests['other'] / requests['this']:.3f} "
        f"(median of rounds {statistics.median(per_round):.3f}; "
        f"rounds {', '.join(f'{ratio:.2f}' for ratio in per_round)})"
    )


if __name__ == "__main__":
    main()
