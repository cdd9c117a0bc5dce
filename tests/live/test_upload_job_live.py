"""Through a real gunicorn whose worker timeout is far shorter than the import: the upload
answers at once, its job imports the whole file in a thread of the worker, and the job's
page reports it. The worker is never killed for taking too long, since no request does."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.upload_memory import MultipartFile, finished
from promo_app.models import LoyaltyProgram, PromoCode, UploadJob
from tests.helpers import PASSWORD
from tests.live.server import gunicorn

pytestmark = pytest.mark.slow

# Enough codes that the import outlasts the timeout several times over on a quiet machine:
# PostgreSQL imports several times slower than SQLite, so it needs fewer (and the pass runs
# twice there, directly and through PgBouncer).
CODES = {"sqlite": 1_000_000, "postgresql": 300_000}
WORKER_TIMEOUT = 3  # seconds
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_an_upload_longer_than_the_worker_timeout_completes_and_reports(
    database_url, admin, tmp_path
):
    engine = create_engine(database_url)
    codes = CODES[engine.dialect.name]
    try:
        with Session(engine) as session:
            program = LoyaltyProgram(name="Big")
            session.add(program)
            session.commit()
            loyalty_id = program.id
        path = tmp_path / "big.txt"
        with open(path, "w") as file:
            for n in range(codes):
                file.write(f"BIG-{n:012d}\n")
            file.write("BIG-000000000007\n")  # one duplicate, at the end
        server = gunicorn(
            database_url,
            workers=2,
            GUNICORN_CMD_ARGS=f"--timeout {WORKER_TIMEOUT}",
            PROMO_UPLOAD_FOLDER=str(tmp_path / "uploads"),
        )
        with requests.Session() as client, server as base:
            login = client.get(f"{base}/admin/login").text
            client.post(
                f"{base}/admin/login",
                data={
                    "csrf_token": CSRF.search(login).group(1),
                    "name": admin,
                    "password": PASSWORD,
                },
            ).raise_for_status()
            url = f"{base}/admin/programs/{loyalty_id}/upload"
            body = MultipartFile(
                {"csrf_token": CSRF.search(client.get(url).text).group(1)}, path, "B"
            )
            answer = client.post(
                url,
                data=body,
                headers={"Content-Type": "multipart/form-data; boundary=B"},
                timeout=60,
            )
            assert answer.status_code == 200
            assert re.search(rf"/admin/programs/{loyalty_id}/uploads/\d+$", answer.url)
            assert "Importing big.txt…" in answer.text
            report = finished(client, answer.url, timeout=900)
        assert "Uploaded big.txt" in report
        inserted, duplicated = (
            re.search(rf'data-count="{name}">([\d,]+)<', report).group(1)
            for name in ("inserted", "duplicated")
        )
        assert (inserted, duplicated) == (f"{codes:,}", "1")
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(PromoCode)) == codes
            job = session.scalars(select(UploadJob)).one()
            took = (job.finished - job.started).total_seconds()
        print(f"\n{codes:,} codes imported in {took:.1f} s under a {WORKER_TIMEOUT} s timeout")
        # What makes the test mean something: the import outlasted the worker timeout.
        assert took > WORKER_TIMEOUT
    finally:
        engine.dispose()
