"""An upload job's state in the database: written by the thread that imports the file, read
by the page. Its counts are those of the batches committed so far, written in the same
transaction as their codes, so they always match what the program holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..importing.report import UploadReport
from ..models import LoyaltyProgram, UploadJob
from ..times import utcnow

QUEUED, RUNNING, DONE, INTERRUPTED, FAILED = "queued", "running", "done", "interrupted", "failed"
UNFINISHED = (QUEUED, RUNNING)
# Jobs listed on a program's page.
RECENT = 10
# The longest code a problem line keeps (a CSV field may be far longer than a code).
SHOWN_CODE = 300


def create_job(
    session: Session,
    program: LoyaltyProgram,
    filename: str,
    admin_name: str | None,
    file_bytes: int,
) -> UploadJob:
    """Add a queued job for a file saved to disk; the caller commits."""
    job = UploadJob(
        loyalty_id=program.id,
        filename=filename[:255],
        admin_name=admin_name,
        status=QUEUED,
        file_bytes=file_bytes,
        heartbeat=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def start_job(session: Session, job_id: int) -> None:
    now = utcnow()
    session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id)
        .values(status=RUNNING, started=now, heartbeat=now)
    )


def record_progress(
    session: Session,
    job_id: int,
    report: UploadReport,
    bytes_read: int,
) -> None:
    """Write the report's counts so far in the session's transaction, for the commit that
    follows to make them true."""
    problems = report.first_problems
    session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id)
        .values(
            **report.counts(),
            problems=json.dumps(
                [(line, _shortened(code), outcome, why) for line, code, outcome, why in problems]
            ),
            bytes_read=bytes_read,
            heartbeat=utcnow(),
        )
    )


def _shortened(code: str) -> str:
    return code if len(code) <= SHOWN_CODE else code[:SHOWN_CODE] + "…"


def end_job(session: Session, job_id: int, status: str, message: str | None = None) -> None:
    """Mark the job ended, its counts as they were last written."""
    session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id)
        .values(status=status, message=message, finished=utcnow())
    )


def beat(session: Session, job_id: int) -> None:
    """Say that the job's process is alive; the caller commits."""
    session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id, UploadJob.status.in_(UNFINISHED))
        .values(heartbeat=utcnow())
    )


@dataclass(frozen=True)
class JobView:
    """A job as the page shows it: a job whose heartbeat is stale is interrupted."""

    job: UploadJob
    status: str
    problems: list[tuple[int, str, str, str]]

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

    @property
    def percent(self) -> int:
        if not self.job.file_bytes:
            return 100 if self.finished else 0
        return min(100, round(100 * self.job.bytes_read / self.job.file_bytes))

    def as_json(self) -> dict[str, object]:
        job = self.job
        return {
            "id": job.id,
            "loyalty_id": job.loyalty_id,
            "filename": job.filename,
            "status": self.status,
            "finished": self.finished,
            "inserted": job.inserted,
            "duplicated": job.duplicated,
            "invalid": job.invalid,
            "bytes_read": job.bytes_read,
            "file_bytes": job.file_bytes,
            "percent": self.percent,
            "message": job.message,
        }


def shown_status(job: UploadJob, stale_after: timedelta, now: datetime | None = None) -> str:
    if job.status in UNFINISHED and job.heartbeat < (now or utcnow()) - stale_after:
        return INTERRUPTED
    return job.status


def view(job: UploadJob, stale_after: timedelta) -> JobView:
    problems = [tuple(problem) for problem in json.loads(job.problems or "[]")]
    return JobView(job, shown_status(job, stale_after), problems)


def get_job(session: Session, loyalty_id: int, job_id: int) -> UploadJob | None:
    return session.scalar(
        select(UploadJob).where(UploadJob.id == job_id, UploadJob.loyalty_id == loyalty_id)
    )


def recent_jobs(session: Session, loyalty_id: int, limit: int = RECENT) -> list[UploadJob]:
    return list(
        session.scalars(
            select(UploadJob)
            .where(UploadJob.loyalty_id == loyalty_id)
            .order_by(UploadJob.id.desc())
            .limit(limit)
        )
    )


def mark_interrupted(session: Session, job_id: int, stale_after: timedelta) -> bool:
    """Record a job whose heartbeat went stale as interrupted, unless it has moved on since;
    the caller commits. Say whether it was marked."""
    now = utcnow()
    result = session.execute(
        update(UploadJob)
        .where(
            UploadJob.id == job_id,
            UploadJob.status.in_(UNFINISHED),
            UploadJob.heartbeat < now - stale_after,
        )
        .values(status=INTERRUPTED, finished=now)
    )
    return result.rowcount == 1


def saved_file(folder: str | Path, job_id: int) -> Path:
    """Where the file of a job is kept while it is imported."""
    return Path(folder) / f"job-{job_id}.upload"
