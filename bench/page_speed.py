"""Time the page's screens on a program of a million codes (SQLite), through the test client.

    .venv/bin/python bench/page_speed.py [CODES]

Prints the time of each screen (best of 5) and the ratio of a deep page (keyset, the
5,000th page of 50) to the first one: paging by key makes them cost the same.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, update  # noqa: E402

from promo_app import create_app  # noqa: E402
from promo_app.models import Attachment, Database, LoyaltyProgram, Profile, PromoCode  # noqa: E402
from promo_app.page.queries import CodeFilter, list_codes, program_summaries  # noqa: E402

PASSWORD = "benchmark password"


def fill(session, codes: int) -> int:
    """Add a program of `codes` codes: every 10th attached, every 100th activated."""
    program = LoyaltyProgram(name="Million")
    database = Database(name="Shop")
    session.add_all([program, database])
    session.flush()
    profile = Profile(
        db_id=database.id, email="someone@example.com", email_key="someone@example.com"
    )
    session.add(profile)
    session.flush()
    created = datetime(2026, 1, 1)
    connection = session.connection(bind_arguments={"mapper": PromoCode})  # the promo engine
    for start in range(0, codes, 50_000):
        connection.execute(
            insert(PromoCode),
            [
                {
                    "loyalty_id": program.id,
                    "code": f"M{n:09d}",
                    "universal": False,
                    "free": n % 10 != 0,
                    "activated": created if n % 100 == 0 else None,
                    "expire_date": created - timedelta(days=1) if n % 1000 == 7 else None,
                    "created": created,
                }
                for n in range(start, min(start + 50_000, codes))
            ],
        )
    taken = session.scalars(
        select(PromoCode.id).where(PromoCode.loyalty_id == program.id, PromoCode.free.is_(False))
    ).all()
    for start in range(0, len(taken), 50_000):
        connection.execute(
            insert(Attachment),
            [
                {
                    "code_id": code_id,
                    "profile_pk": profile.id,
                    "personal": True,
                    "attached": created,
                }
                for code_id in taken[start : start + 50_000]
            ],
        )
    session.execute(update(PromoCode).values(created=created))
    session.commit()
    return program.id


def best_of(client, path: str, times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        best = min(best, time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return best


def best_time(function, times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    codes = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(
            {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/page.db"}
        )
        app.test_cli_runner().invoke(
            args=["promo", "create-admin", "bench", "--password", PASSWORD]
        )
        with app.app_context():
            loyalty_id = fill(app.extensions["promo"].db.session, codes)
            session = app.extensions["promo"].db.session
            deep_key = session.scalar(
                select(PromoCode.id)
                .where(PromoCode.loyalty_id == loyalty_id)
                .order_by(PromoCode.id.desc())
                .offset(50 * 4999)
                .limit(1)
            )
        client = app.test_client()
        login = client.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post(
            "/admin/login", data={"csrf_token": token, "name": "bench", "password": PASSWORD}
        )
        base = f"/admin/programs/{loyalty_id}"
        screens = {
            "programs with counts": "/admin/",
            "program, page 1": base,
            "program, page 5,000": f"{base}?before={deep_key}",
            "free codes, page 1": f"{base}?status=free",
            "attached codes, page 1": f"{base}?status=attached",
            "prefix M00012": f"{base}?q=M00012",
        }
        print(f"{codes:,} codes in one program, SQLite; best of 5")
        timings = {name: best_of(client, path) for name, path in screens.items()}
        for name, seconds in timings.items():
            print(f"  {name:<24} {seconds * 1000:8.1f} ms")
        with app.app_context():
            session = app.extensions["promo"].db.session
            first = best_time(lambda: list_codes(session, loyalty_id, CodeFilter()))
            deep = best_time(
                lambda: list_codes(session, loyalty_id, CodeFilter(), older_than=deep_key)
            )
            counting = best_time(lambda: program_summaries(session, loyalty_id=loyalty_id))
        print("  the service functions alone:")
        print(f"    list_codes, page 1       {first * 1000:8.2f} ms")
        print(f"    list_codes, page 5,000   {deep * 1000:8.2f} ms   ratio {deep / first:.2f}")
        print(f"    program_summaries        {counting * 1000:8.2f} ms")
        started = time.perf_counter()
        response = client.get(f"{base}/export.csv")
        size = sum(len(chunk) for chunk in response.response)
        seconds = time.perf_counter() - started
        print(
            f"  export of all codes      {seconds:8.1f} s  ({size / 2**20:.1f} MiB, "
            f"{codes / seconds:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
