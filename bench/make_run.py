"""Attach throughput through `make run`'s server: gunicorn with the shipped gunicorn.conf.py
(2 x CPUs + 1 sync workers, access log on), beside the bench's usual `--workers 2` without an
access log, on the same SQLite file, alternating rounds.

    .venv/bin/python bench/make_run.py [--rounds 3] [--seconds 5] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import wrk

ROOT = Path(__file__).resolve().parent.parent
POOL = 400_000


def flask(environment: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "promo", *args],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def serve(environment: dict, port: int, extra: list[str], log) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"),
            *("--bind", f"127.0.0.1:{port}", *extra),
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:  # every worker booted: until then the master queues connections
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    time.sleep(2)
    return process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-make-run-"))
    environment = {**os.environ, "PROMO_INSTANCE_PATH": str(folder)}
    environment.pop("DATABASE_URL", None)
    flask(environment, "demo")
    codes = folder / "codes.txt"
    codes.write_text("".join(f"POOL-{n:08d}\n" for n in range(POOL)))
    flask(environment, "import-codes", str(codes), "--loyalty-id", "1")
    token = (folder / "demo-token.txt").read_text().strip()
    body = json.dumps({"token": token, "db_id": 1, "loyalty_id": 1, "email": "bob@example.com"})
    setups = {
        "make run (gunicorn.conf.py)": [],
        "--workers 2, no access log": ["--workers", "2", "--access-logfile", "/dev/null"],
        "--workers 2, access log": ["--workers", "2"],
    }
    results: dict[str, list[float]] = {name: [] for name in setups}
    with open(folder / "gunicorn.log", "w") as log:
        for _round in range(args.rounds):
            for name, extra in setups.items():
                port = 20000 + os.getpid() % 20000
                server = serve(environment, port, extra, log)
                try:
                    wrk(port, body, 1, args.connections)  # warm-up, not counted
                    measured = wrk(port, body, args.seconds, args.connections)
                    assert measured["non_2xx"] == 0, measured
                    results[name].append(measured["rps"])
                finally:
                    server.terminate()
                    server.wait()
    print(f"load average before: {os.getloadavg()[0]:.2f}; wrk -c {args.connections}")
    for name, values in results.items():
        rounds = ", ".join(f"{value:,.0f}" for value in values)
        print(f"{name}: median {statistics.median(values):,.0f} req/s ({rounds})")


if __name__ == "__main__":
    main()
