"""Attach p99 while the page expires a million codes in one bulk action, against idle.

A shop with a pool of free codes (what the attach calls draw from) and a second program of
COUNT generated codes; gunicorn serves it (2 sync workers). One client attaches a code every
10 ms: first idle, then while the page's bulk action (asked, then confirmed, through the
page as a merchant does it) expires every code of the second program. The issue's target:
p99 at most 10 times idle.

    python bench/bulk_action_busy.py [--codes 1000000] [--pool 20000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from common import OUT, make_shop, sqlite_url  # noqa: E402
from rows_busy import (  # noqa: E402
    BENCH_ADMIN_PASSWORD,
    CSRF_FIELD,
    FLASK_PROMO,
    idle_calls,
    sign_in_to_page,
)
from servers import gunicorn, percentile, post  # noqa: E402

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def expire_all(port: int, loyalty_id: int) -> str:
    """Sign in, ask to expire every code of the program, confirm; return the final page."""
    import requests

    site = f"http://127.0.0.1:{port}/admin"
    with requests.Session() as browser:
        sign_in_to_page(browser, site)
        page = browser.get(f"{site}/programs/{loyalty_id}", timeout=60).text
        asked = browser.post(
            f"{site}/programs/{loyalty_id}/actions",
            data={"csrf_token": CSRF_FIELD.search(page)[1], "action": "expire"},
            timeout=600,
        )
        asked.raise_for_status()
        done = browser.post(
            f"{site}/programs/{loyalty_id}/actions/confirm",
            data=dict(HIDDEN.findall(asked.text)),
            timeout=1800,
        )
        done.raise_for_status()
        return done.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--pool", type=int, default=20_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    shop = make_shop(sqlite_url("bulk-action.db"), free_codes=args.pool)
    env = {"DATABASE_URL": shop.url}
    run_env = {**os.environ, "SECRET_KEY": "bench", **env}
    for command in (
        ["create-admin", "bench", "--password", BENCH_ADMIN_PASSWORD],
        ["generate-codes", "--loyalty-id", str(shop.import_loyalty_id), "--count",
         str(args.codes), "--pattern", "*****-*****"],
    ):  # fmt: skip
        subprocess.run([*FLASK_PROMO, *command], cwd=ROOT, env=run_env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    body = shop.attach_body()
    busy: list[float] = []
    statuses: list[int] = []
    outcome: dict[str, object] = {}
    with gunicorn("wsgi:app", env, timeout=1800) as port:
        idle = idle_calls(port, body, statuses)

        def act() -> None:
            try:
                outcome["page"] = expire_all(port, shop.import_loyalty_id)
            except Exception as error:  # reported below, in the main thread
                outcome["error"] = error

        started = time.perf_counter()
        worker = threading.Thread(target=act)
        worker.start()
        while worker.is_alive():
            status, seconds = post(port, body)
            statuses.append(status)
            busy.append(seconds)
            time.sleep(0.01)
        took = time.perf_counter() - started
    assert "error" not in outcome, f"the bulk action failed: {outcome.get('error')}"
    assert f"Expired {args.codes:,} codes" in str(outcome["page"]), "not every code expired"
    bad = [status for status in statuses if status != 200]
    assert not bad, f"{len(bad)} attach calls failed: {sorted(set(bad))}"
    idle_p99, busy_p99 = percentile(idle, 0.99) * 1000, percentile(busy, 0.99) * 1000
    print(
        f"attach p99 while the page expires {args.codes:,} codes: {busy_p99:.1f} ms "
        f"(p50 {percentile(busy, 0.5) * 1000:.1f}, max {max(busy) * 1000:.0f}; {len(busy)} "
        f"calls over {took:.0f} s, ask and confirm included)"
    )
    print(f"idle: {idle_p99:.1f} ms (p50 {percentile(idle, 0.5) * 1000:.1f}; {len(idle)} calls)")
    print(f"ratio {busy_p99 / idle_p99:.1f} (target <= 10); all {len(statuses)} calls answered 200")


if __name__ == "__main__":
    main()
