"""Profile the attach request path in process: where does one attach spend its time?

.venv/bin/python bench/profile/attach.py [CALLS]   # prints pyinstrument's tree
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout

from common import OUT, make_shop, sqlite_url
from pyinstrument import Profiler

from promo_app import create_app


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    OUT.mkdir(parents=True, exist_ok=True)
    shop = make_shop(sqlite_url("profile.db"), free_codes=calls + 100)
    app = create_app({"SQLALCHEMY_DATABASE_URI": shop.url, "SECRET_KEY": "bench"})
    client = app.test_client()
    body = shop.attach_body()
    headers = {"Content-Type": "application/json"}
    for _ in range(50):
        client.post("/api/v1.1/promocodes/attach", data=body, headers=headers)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(calls):
            response = client.post("/api/v1.1/promocodes/attach", data=body, headers=headers)
            assert response.status_code == 200, response.data
    elapsed = time.perf_counter() - started
    print(f"{calls} attach calls in {elapsed:.2f} s: {elapsed / calls * 1000:.2f} ms each")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
