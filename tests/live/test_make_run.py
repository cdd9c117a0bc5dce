"""`make run` as the README says: gunicorn from gunicorn.conf.py, the demo shop, an attach."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.live.server import ROOT, free_port

pytestmark = pytest.mark.slow


def test_make_run_serves_the_demo_with_gunicorn(tmp_path):
    port = free_port()
    venv = Path(sys.prefix)
    log = tmp_path / "make-run.log"
    environment = {**os.environ, "PROMO_INSTANCE_PATH": str(tmp_path), "GUNICORN_WORKERS": "2"}
    environment.pop("DATABASE_URL", None)
    with open(log, "w") as output:
        # -o: the test's virtualenv has its packages already; make need not install them.
        process = subprocess.Popen(
            ["make", "-o", f"{venv}/.run-deps", "run", f"VENV={venv}", f"PORT={port}"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                health = requests.get(f"{base}/healthz", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert (tmp_path / "promo.db").exists()  # SQLite, in the instance folder

        # The curl command make run prints, run as a user would (its quoting included).
        printed = log.read_text()
        curl = next(line for line in printed.splitlines() if line.startswith("curl "))
        answer = subprocess.run(["sh", "-c", curl], capture_output=True, text=True, timeout=30)
        assert '"code":"WELCOME-0001"' in answer.stdout, answer.stdout + answer.stderr
        assert '"error":0' in answer.stdout

        time.sleep(0.5)  # the access log line is written after the answer
        printed = log.read_text()
        assert re.search(r"Using worker: sync", printed)
        assert len(re.findall(r"Booting worker with pid", printed)) == 2
        assert re.search(r'"POST /api/v1.1/promocodes/attach HTTP/1.1" 200 \d+ \d+us', printed)
        assert "development server" not in printed
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert "Shutting down: Master" in log.read_text()
