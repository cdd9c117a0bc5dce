"""Uploads as jobs: the form answers at once with the job's page, a thread of the server
imports the file, and a job whose process died is shown as interrupted."""

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, PromoCode, UploadJob
from promo_app.times import utcnow
from promo_app.uploads import worker
from tests.page.test_page import (  # noqa: F401
    code_count,
    counts,
    csrf_token,
    finished_upload,
    problems,
    program_id,
    send_file,
    signed_in,
    upload,
)


@pytest.fixture
def app_config(tmp_path):
    return {"PROMO_UPLOAD_FOLDER": str(tmp_path / "uploads")}


def upload_rows(html: str) -> list[tuple[str, str, str]]:
    """The program page's list of uploads: (file, by, state)."""
    return re.findall(
        r'<tr data-upload-id="\d+">\s*<td><a href="[^"]+">([^<]*)</a></td>\s*<td>([^<]*)</td>'
        r'\s*<td>[^<]*</td>\s*<td><span class="[^"]*" data-upload-status>(\w+)</span>',
        html,
    )


def test_the_upload_answers_at_once_and_its_job_imports_the_file(
    signed_in, app, session, program_id, tmp_path
):
    lines = [f"FAST-{n:07d}" for n in range(200_000)] + ["FAST-0000001", "BAD\x07"]
    accepted = send_file(signed_in, program_id, "\n".join(lines).encode())
    assert accepted.status_code == 303
    assert re.fullmatch(rf"/admin/programs/{program_id}/uploads/\d+", accepted.location)
    # The answer came before the import's end: the job's page shows its progress.
    page = signed_in.get(accepted.location)
    assert "Importing codes.txt…" in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    assert "upload_job.js" in page.text
    running = signed_in.get(f"{accepted.location}.json").json
    assert running["finished"] is False
    assert running["status"] in ("queued", "running")

    report = finished_upload(signed_in, accepted)
    assert "Uploaded codes.txt" in report.text
    assert "http-equiv" not in report.text
    assert counts(report.text) == {"inserted": 200_000, "duplicated": 1, "invalid": 1}
    assert problems(report.text) == [
        (200_001, "FAST-0000001", "duplicated"),
        (200_002, "BAD\\x07", "invalid"),
    ]
    state = signed_in.get(f"{accepted.location}.json").json
    assert {key: state[key] for key in ("status", "finished", "inserted", "percent")} == {
        "status": "done",
        "finished": True,
        "inserted": 200_000,
        "percent": 100,
    }
    assert code_count(session, program_id) == 200_000
    program = signed_in.get(f"/admin/programs/{program_id}").text
    assert upload_rows(program) == [("codes.txt", "boss", "done")]
    assert list((tmp_path / "uploads").iterdir()) == []  # the saved file is gone


def test_a_job_whose_process_died_is_interrupted_and_the_same_file_adds_the_rest(
    signed_in, session, program_id
):
    codes = [f"HALF-{n:05d}" for n in range(1000)]
    # A job that committed its first 400 codes, then its process was killed: its heartbeat
    # stopped ten minutes ago.
    program = session.get(LoyaltyProgram, program_id)
    import_codes(session, program, [ImportLine(n, code) for n, code in enumerate(codes[:400])])
    long_ago = utcnow() - timedelta(minutes=10)
    job = UploadJob(
        loyalty_id=program_id,
        filename="codes.txt",
        admin_name="boss",
        status="running",
        file_bytes=11_000,
        bytes_read=4_400,
        inserted=400,
        started=long_ago,
        heartbeat=long_ago,
    )
    session.add(job)
    session.commit()
    job_url = f"/admin/programs/{program_id}/uploads/{job.id}"

    state = signed_in.get(f"{job_url}.json").json
    assert (state["status"], state["finished"], state["inserted"]) == ("interrupted", True, 400)
    page = signed_in.get(job_url).text
    assert "Upload of codes.txt interrupted" in page
    assert "Upload the same file again to add the rest" in page
    assert counts(page) == {"inserted": 400, "duplicated": 0, "invalid": 0}
    assert upload_rows(signed_in.get(f"/admin/programs/{program_id}").text) == [
        ("codes.txt", "boss", "interrupted")
    ]
    session.rollback()
    stored = session.get(UploadJob, job.id)
    assert stored.status == "interrupted" and stored.finished is not None

    again = upload(signed_in, program_id, "\n".join(codes).encode())
    assert counts(again.text) == {"inserted": 600, "duplicated": 400, "invalid": 0}
    assert code_count(session, program_id) == 1000
    assert [row[2] for row in upload_rows(signed_in.get(f"/admin/programs/{program_id}").text)] == [
        "done",
        "interrupted",
    ]


def test_a_running_job_with_a_fresh_heartbeat_is_not_interrupted(signed_in, session, program_id):
    job = UploadJob(loyalty_id=program_id, filename="big.csv", status="running", heartbeat=utcnow())
    session.add(job)
    session.commit()
    state = signed_in.get(f"/admin/programs/{program_id}/uploads/{job.id}.json").json
    assert (state["status"], state["finished"]) == ("running", False)
    assert (
        "Importing big.csv…" in signed_in.get(f"/admin/programs/{program_id}/uploads/{job.id}").text
    )


@pytest.mark.parametrize("filename", ["codes.txt", "codes.csv"])
def test_a_20_mb_line_is_reported_by_its_number_and_the_rest_imported(
    signed_in, session, program_id, filename
):
    head = b"code\n" if filename.endswith(".csv") else b""
    content = head + b"GOOD-1\n" + b"z" * (20 * 2**20) + b"\nGOOD-2\n"
    report = upload(signed_in, program_id, content, filename)
    assert counts(report.text) == {"inserted": 2, "duplicated": 0, "invalid": 1}
    line = 3 if head else 2
    assert problems(report.text) == [(line, "z" * 40 + "…", "invalid")]
    assert "too long for a code; it was skipped" in report.text
    session.rollback()
    assert sorted(session.scalars(select(PromoCode.code))) == ["GOOD-1", "GOOD-2"]


def test_a_job_of_another_program_or_none_is_404(signed_in, session, program_id):
    other = LoyaltyProgram(name="Other")
    session.add(other)
    session.commit()
    accepted = send_file(signed_in, program_id, b"ONE\n")
    finished_upload(signed_in, accepted)
    job_id = accepted.location.rsplit("/", 1)[1]
    for path in (
        f"/admin/programs/{other.id}/uploads/{job_id}",
        f"/admin/programs/{other.id}/uploads/{job_id}.json",
        f"/admin/programs/{program_id}/uploads/999",
    ):
        assert signed_in.get(path).status_code == 404


def test_a_job_that_fails_on_the_server_is_shown_failed_with_its_counts(
    signed_in, session, program_id, monkeypatch
):
    real_import = worker.import_codes

    def breaking(session, program, lines, **options):
        def until_broken():
            for item in lines:
                if item.line == 1500:
                    raise RuntimeError("the disk is full")
                yield item

        return real_import(session, program, until_broken(), **{**options, "batch_size": 1000})

    monkeypatch.setattr(worker, "import_codes", breaking)
    report = upload(signed_in, program_id, "\n".join(f"F-{n}" for n in range(3000)).encode())
    assert "Upload of codes.txt failed" in report.text
    assert "The import failed on the server." in report.text
    inserted = counts(report.text)["inserted"]
    assert 0 < inserted < 1500
    assert inserted == code_count(session, program_id)  # the batches committed, and only those
    rows = upload_rows(signed_in.get(f"/admin/programs/{program_id}").text)
    assert rows == [("codes.txt", "boss", "failed")]
