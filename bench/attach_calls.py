"""In-process attach calls (Flask's test client, SQLite) of this checkout and another one, and
of the other one with its history's event left out: what the event costs a call, in Python.

    git archive BASE | tar -x -C /tmp/before
    .venv/bin/python bench/attach_calls.py /tmp/before [--calls 3000] [--rounds 6]

Each side makes its shop with its own code (its schema and indexes) in a process of its own,
then draws `--calls` codes a round through the test client; the sides take turns, the order
reversed every other round. It prints microseconds per call for each round (wall clock, and
the process's CPU time, which a shared machine's other work moves less), the medians, and
their ratios. No server, no network: the figure is the Python and SQLite work of a call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys, time
sys.path.insert(0, "bench")
from run import ATTACH_PATH, make_shop, sqlite_url
tag, free, no_event = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
shop = make_shop(sqlite_url(f"attach-calls-{tag}.db"), free)
from promo_app import create_app, events
if no_event:
    events.record = lambda *args, **kwargs: None
app = create_app({"SQLALCHEMY_DATABASE_URI": shop.url, "SECRET_KEY": "bench"})
client = app.test_client()
body = shop.attach_body()
print("ready", flush=True)
for line in sys.stdin:
    calls = int(line)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        answer = client.post(ATTACH_PATH, data=body, content_type="application/json")
    spent, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert answer.status_code == 200 and answer.get_json()["error"] == 0, answer.data
    print(json.dumps([spent / calls * 1e6, cpu / calls * 1e6]), flush=True)
"""


def worker(checkout: Path, tag: str, free: int, no_event: bool) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, tag, str(free), "1" if no_event else "0"],
        cwd=checkout,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    while process.stdout.readline().strip() != "ready":
        if process.poll() is not None:
            raise SystemExit(f"the worker of {tag} failed")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="the other checkout (the code before)")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    free = args.calls * (args.rounds + 1)
    sides = {
        "this": worker(ROOT, "this", free, False),
        "other": worker(args.other.resolve(), "other", free, False),
        "other without event": worker(args.other.resolve(), "bare", free, True),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for process in sides.values():  # a warm-up round, not counted
        process.stdin.write(f"{args.calls // 10}\n")
        process.stdin.flush()
        process.stdout.readline()
    for number in range(args.rounds):
        row = []
        for name in names if number % 2 == 0 else names[::-1]:
            process = sides[name]
            process.stdin.write(f"{args.calls}\n")
            process.stdin.flush()
            spent, used = json.loads(process.stdout.readline())
            times[name].append(spent)
            cpu[name].append(used)
            row.append(f"{name} {spent:.0f} (CPU {used:.0f})")
        print(f"round {number + 1}: " + ", ".join(row) + " µs/call", flush=True)
    for process in sides.values():
        process.stdin.close()
        process.wait()
    for label, measured in (("wall clock", times), ("CPU", cpu)):
        medians = {name: statistics.median(values) for name, values in measured.items()}
        bare = medians["other without event"]
        for name, median in medians.items():
            print(f"{label}, {name}: {median:.1f} µs/call, {bare / median:.3f} of the bare call")
        print(f"{label}, this / other: {medians['other'] / medians['this']:.3f} (calls per second)")


if __name__ == "__main__":
    main()
