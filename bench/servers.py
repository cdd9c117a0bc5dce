"""Servers, clients and measured commands of the benchmarks: gunicorn on a free loopback
port, one attach POST and wrk's load against it, and a command's wall time and peak memory."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import BIN, OUT, ROOT

ATTACH_PATH = "/api/v1.1/promocodes/attach"
SERVERS: dict[int, subprocess.Popen] = {}  # port -> master process of each running gunicorn


# Servers and clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    app_spec: str,
    env: dict[str, str],
    workers: int = 2,
    timeout: int = 30,
    checkout: Path = ROOT,
) -> Iterator[int]:
    """Serve `app_spec` of `checkout` with gunicorn (sync workers) on a free loopback port;
    its master process is `SERVERS[port]` while it runs."""
    port = free_port()
    log = open(OUT / f"gunicorn-{port}.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            *(
                BIN / "gunicorn",
                "--config",
                str(Path(__file__).with_name("gunicorn_defaults.conf.py")),
            ),
            *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
            *("--timeout", str(timeout), app_spec),
        ],
        cwd=checkout,
        env={**os.environ, "SECRET_KEY": "bench", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.1)
        SERVERS[port] = server
        yield port
    finally:
        SERVERS.pop(port, None)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def post(port: int, body: str) -> tuple[int, float]:
    """POST one attach; return its status and its latency in seconds."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", ATTACH_PATH, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wrk(
    port: int,
    body: str,
    seconds: float,
    connections: int,
    script: str = "attach.lua",
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    """Load one server with wrk (`script` of bench/, `env` for it); return requests/s and the
    count of non-2xx answers."""
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:g}s",
        "--script",
        str(ROOT / "bench" / script),
        f"http://127.0.0.1:{port}{ATTACH_PATH}",
    ]
    output = subprocess.run(
        command,
        env={**os.environ, "BENCH_BODY": body, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command; return its wall time in seconds and its peak resident memory in KiB.

    The peak is the process's own high-water mark (VmHWM), read while it runs: the
    rusage of a child counts the memory of the parent it was forked from.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "bench", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, high_water_mark(process.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed")
    return elapsed, peak


def high_water_mark(pid: int) -> int:
    """Return the peak resident memory of a running process in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
