"""A large upload through the page commits in batches, so attach calls keep being answered.

Real gunicorn with two worker processes on a SQLite file: a thread of one imports the
upload while both answer attach calls (one waiting for the write lock in the importer's
own process is seen too, and the importer lets the lock go).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time

import pytest
import requests

from bench.upload_memory import MultipartFile, finished
from promo_app import create_app
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Database, LoyaltyProgram
from promo_app.profiles import add_profile
from promo_app.tokens import create_token
from tests.live.server import gunicorn

# A SQLite file of its own, whatever --db says: run once, in the SQLite pass.
pytestmark = [pytest.mark.slow, pytest.mark.db_independent]

PASSWORD = "correct horse battery"
CODES = 200_000
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(database_url: str) -> dict:
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(
        args=["promo", "create-admin", "boss", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = app.extensions["promo"].db.session
        database = Database(name="Shop")
        shop_program = LoyaltyProgram(name="Shop codes")
        big = LoyaltyProgram(name="Big")
        session.add_all([database, shop_program, big])
        session.flush()
        add_profile(session, database, email="ann@example.com")
        import_codes(session, shop_program, [ImportLine(n, f"SHOP-{n}") for n in range(1, 1001)])
        token = create_token(session, "shop")
        session.commit()
        ids = {"db_id": database.id, "shop_id": shop_program.id, "big_id": big.id}
        for engine in app.extensions["promo"].db.engines.values():
            engine.dispose()
    return {"token": token, **ids}


def test_attach_calls_are_answered_during_a_large_upload(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    shop = prepare(database_url)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"BIG-{n:09d}\n" for n in range(CODES)))
    server = gunicorn(database_url, workers=2, PROMO_UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with requests.Session() as client, server as base:
        login = client.get(f"{base}/admin/login").text
        client.post(
            f"{base}/admin/login",
            data={"csrf_token": CSRF.search(login).group(1), "name": "boss", "password": PASSWORD},
        ).raise_for_status()
        form = client.get(f"{base}/admin/programs/{shop['big_id']}/upload").text
        body = MultipartFile({"csrf_token": CSRF.search(form).group(1)}, path, "LiveBoundary")
        answer: dict[str, object] = {}

        def send() -> None:
            """Upload, then follow the job's page until its report, as the page's script does."""
            response = client.post(
                f"{base}/admin/programs/{shop['big_id']}/upload",
                data=body,
                headers={"Content-Type": "multipart/form-data; boundary=LiveBoundary"},
                timeout=300,
            )
            answer["status"], answer["text"] = response.status_code, finished(client, response.url)

        uploading = threading.Thread(target=send)
        started = time.perf_counter()
        uploading.start()
        latencies: list[float] = []
        for call in itertools.count():
            if not uploading.is_alive():
                break
            began = time.perf_counter()
            response = requests.post(
                f"{base}/api/v1.1/promocodes/attach",
                data=json.dumps(
                    {
                        "token": shop["token"],
                        "db_id": shop["db_id"],
                        "loyalty_id": shop["shop_id"],
                        "email": "ann@example.com",
                        "code": f"LIVE-{call}",
                    }
                ),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            if uploading.is_alive():
                latencies.append(time.perf_counter() - began)
            assert response.json()["error"] == 0, response.text
            time.sleep(0.05)
        uploading.join()
        upload_seconds = time.perf_counter() - started
    assert answer["status"] == 200
    inserted = re.search(r'data-count="inserted">([\d,]+)<', str(answer["text"])).group(1)
    assert inserted == f"{CODES:,}"
    latencies.sort()
    print(
        f"\nupload of {CODES:,} codes: {upload_seconds:.1f} s; {len(latencies)} attach calls "
        f"answered meanwhile: median {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"slowest {latencies[-1] * 1000:.0f} ms"
    )
    assert len(latencies) >= 5
