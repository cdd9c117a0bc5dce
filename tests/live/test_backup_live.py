"""`promo backup` while gunicorn answers attach calls, and `promo restore` of that backup:
every attachment answered before the backup began is in it, and a restore waits for the
server to be stopped."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing

import pytest
import requests

from tests.live.server import ROOT, gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]


def promo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run `flask promo ARGS` as its own process, as cron or an admin would."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'promo.db'}",
        "PROMO_INSTANCE_PATH": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "promo", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def attached_codes(path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = connection.execute(
            "SELECT c.code FROM promo_attachment a JOIN promo_code c ON c.id = a.code_id"
        )
        return {code for (code,) in rows}


def test_a_backup_during_attach_load_holds_every_answered_attachment(tmp_path):
    assert promo(tmp_path, "demo").returncode == 0  # 1,000 free codes, a token
    token = (tmp_path / "demo-token.txt").read_text().strip()
    database = tmp_path / "promo.db"
    body = {"token": token, "db_id": 1, "loyalty_id": 1, "email": "alice@example.com"}
    answered: list[tuple[float, str]] = []
    stop = threading.Event()

    def load(base: str) -> None:
        with requests.Session() as client:
            while not stop.is_set():
                response = client.post(f"{base}/api/v1.1/promocodes/attach", json=body, timeout=30)
                assert response.status_code == 200, response.text
                answered.append((time.monotonic(), response.json()["data"]["code"]))
                time.sleep(0.01)

    url = f"sqlite:///{database}"
    with gunicorn(url, workers=2, PROMO_INSTANCE_PATH=str(tmp_path)) as base:
        clients = [threading.Thread(target=load, args=(base,)) for _ in range(2)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while len(answered) < 30 and time.monotonic() < deadline:  # workers are up, writing
            time.sleep(0.05)
        began = time.monotonic()
        backup = promo(tmp_path, "backup", str(tmp_path / "backup.db"))
        time.sleep(0.5)
        refused = promo(tmp_path, "restore", str(tmp_path / "backup.db"), "--yes")
        stop.set()
        for client in clients:
            client.join()
        live_before = attached_codes(database)

    assert backup.returncode == 0, backup.stderr
    before_backup = {code for at, code in answered if at < began}
    in_backup = attached_codes(tmp_path / "backup.db")
    assert len(before_backup) > 20
    assert before_backup <= in_backup
    assert len(in_backup) < len(answered)  # the load went on after the snapshot
    assert {code for _at, code in answered} == live_before

    assert refused.returncode == 1
    assert "Another process uses" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert attached_codes(database) == live_before  # the refusal changed nothing

    restored = promo(tmp_path, "restore", str(tmp_path / "backup.db"), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert attached_codes(database) == in_backup
    # The restored service serves again: the next draw is a code the backup had free.
    with gunicorn(url, workers=1, PROMO_INSTANCE_PATH=str(tmp_path)) as base:
        response = requests.post(f"{base}/api/v1.1/promocodes/attach", json=body, timeout=30)
    assert response.status_code == 200
    assert response.json()["data"]["code"] not in in_backup
