"""bench/run.py's `busy` rows: attach p99 while a large import runs (the page's upload, and
promo import-codes), against attach p99 on the same server when idle; and signing in to the
merchant's page and uploading through it, which other benchmarks use too."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from common import (
    BIN,
    ROOT,
    Row,
    Shop,
    codes_file,
    count_codes,
    import_command,
    make_shop,
    sqlite_url,
)
from servers import gunicorn, percentile, post

if TYPE_CHECKING:
    import requests


def idle_calls(port: int, body: str, statuses: list[int], pause: float = 0.01) -> list[float]:
    """Warm the server on `port` up, then time 500 attach calls `pause` seconds apart while
    nothing else runs; return their latencies, their statuses added to `statuses`."""
    for _ in range(20):
        post(port, body)
    idle = []
    for _ in range(500):
        status, seconds = post(port, body)
        statuses.append(status)
        idle.append(seconds)
        time.sleep(pause)
    return idle


def bench_busy(args: argparse.Namespace) -> list[Row]:
    """Attach p99 while a large upload runs through the page (the issue's row), and while
    `promo import-codes` runs, against attach p99 on the same server when idle."""
    return [busy_row(args, "upload"), busy_row(args, "import-codes")]


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in_to_page(browser: requests.Session, site: str) -> None:
    """Sign `browser` in to the merchant's page at `site` as the bench admin."""
    form = browser.get(f"{site}/login", timeout=30).text
    browser.post(
        f"{site}/login",
        data={
            "csrf_token": CSRF_FIELD.search(form)[1],
            "name": "bench",
            "password": BENCH_ADMIN_PASSWORD,
        },
        timeout=30,
    ).raise_for_status()


def page_upload(port: int, shop: Shop, path: Path) -> str:
    """Sign in to the page as the bench admin and upload `path` to the import program;
    return the report page."""
    import requests

    site = f"http://127.0.0.1:{port}/admin"
    with requests.Session() as browser:
        sign_in_to_page(browser, site)
        upload_url = f"{site}/programs/{shop.import_loyalty_id}/upload"
        form = browser.get(upload_url, timeout=30).text
        with open(path, "rb") as file:
            report = browser.post(
                upload_url,
                data={"csrf_token": CSRF_FIELD.search(form)[1]},
                files={"file": (path.name, file, "text/plain")},
                timeout=1800,
            )
        report.raise_for_status()
        # The answer is the upload job's page: wait for the job's end, as the page does.
        while not browser.get(f"{report.url}.json", timeout=30).json()["finished"]:
            time.sleep(0.2)
        return browser.get(report.url, timeout=30).text


BENCH_ADMIN_PASSWORD = "bench-password"
FLASK_PROMO = (BIN / "flask", "--app", "wsgi", "promo")


def busy_row(args: argparse.Namespace, source: str) -> Row:
    path = codes_file(args.codes)
    shop = make_shop(sqlite_url(f"busy-{source}.db"), free_codes=args.pool)
    body = shop.attach_body()
    env = {"DATABASE_URL": shop.url}
    run_env = {**os.environ, "SECRET_KEY": "bench", **env}
    subprocess.run(
        [*FLASK_PROMO, "create-admin", "bench", "--password", BENCH_ADMIN_PASSWORD],
        cwd=ROOT,
        env=run_env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pause = 0.01
    busy: list[float] = []
    statuses: list[int] = []
    # The page's upload no longer runs within its request (an upload job); the long timeout
    # is kept for the benchmark's other uses of this server.
    with gunicorn("wsgi:app", env, timeout=1800) as port:
        idle = idle_calls(port, body, statuses, pause)
        started = time.perf_counter()
        if source == "upload":
            outcome: dict[str, object] = {}

            def upload() -> None:
                try:
                    outcome["report"] = page_upload(port, shop, path)
                except Exception as error:  # reported below, in the main thread
                    outcome["error"] = error

            worker = threading.Thread(target=upload)
            worker.start()
            running = worker.is_alive
        else:
            importer = subprocess.Popen(
                import_command(shop, path),
                cwd=ROOT,
                env=run_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

            def running() -> bool:
                return importer.poll() is None

        while running():
            status, seconds = post(port, body)
            statuses.append(status)
            busy.append(seconds)
            time.sleep(pause)
        import_time = time.perf_counter() - started
        if source == "upload":
            worker.join()
            assert "error" not in outcome, f"the upload failed: {outcome.get('error')}"
        else:
            assert importer.returncode == 0, "the import failed"
    bad = [status for status in statuses if status != 200]
    assert not bad, f"{len(bad)} attach calls failed: {sorted(set(bad))}"
    assert count_codes(shop.url, shop.import_loyalty_id) == args.codes
    idle_p99, busy_p99 = percentile(idle, 0.99) * 1000, percentile(busy, 0.99) * 1000
    what = "the page's upload" if source == "upload" else "promo import-codes"
    return Row(
        f"attach p99 while {what} imports {args.codes:,} codes (gunicorn -w 2)",
        f"{busy_p99:.1f} ms (p50 {percentile(busy, 0.5) * 1000:.1f}, max "
        f"{max(busy) * 1000:.0f}; {len(busy)} calls over {import_time:.0f} s)",
        f"{idle_p99:.1f} ms idle (p50 {percentile(idle, 0.5) * 1000:.1f}; {len(idle)} calls)",
        busy_p99 / idle_p99,
        "<= 10",
        "all answered 200",
    )
