"""A real gunicorn serving the standalone app, for tests that need several processes.

It reads the shipped gunicorn.conf.py (from the checkout) as `make run` does; its output (the
access log too) goes to a file, since nobody reads a pipe while the test runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.helpers import stop_process

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int = 4, **env: str) -> Iterator[str]:
    """Serve wsgi:app with `workers` processes on `database_url`; yield its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        **env,
    }
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output.seek(0)
                raise RuntimeError(f"gunicorn exited: {output.read()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start in 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
        output.close()


@contextmanager
def app_servers(database_url: str, count: int, workers: int = 4, **env: str) -> Iterator[list[str]]:
    """Serve wsgi:app with `count` gunicorns on one database, on ports of their own, sharing
    `workers` processes among them (at least one each); yield their base URLs."""
    with ExitStack() as stack:
        each = max(1, workers // count)
        servers = [gunicorn(database_url, workers=each, **env) for _ in range(count)]
        yield [stack.enter_context(server) for server in servers]
