"""The thread of the server process that imports an upload job's file.

It is not tied to the request that saved the file: the request answers at once with the
job's page, which polls the job's state in the database. The thread runs in an application
context of its own, so its session is its own; a second thread writes the job's heartbeat
every few seconds while it runs, so that a job whose process died (a worker killed or
restarted) is seen as interrupted. Its counts are then those of the batches committed.
"""

from __future__ import annotations

import csv
import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import Session

from .. import events
from ..db.binding import promo_connection
from ..importing.batches import IMPORT_BATCH_SIZE, import_codes
from ..importing.files import read_code_file
from ..importing.report import UploadReport
from ..models import LoyaltyProgram, UploadJob
from ..state import promo_session
from .jobs import DONE, FAILED, beat, end_job, record_progress, start_job

log = logging.getLogger(__name__)

# Codes per transaction of an upload, at most: on SQLite a transaction ends sooner, after
# the insert at hand, when another writer waits for the write lock (see
# importing.batches.import_codes).
UPLOAD_BATCH = IMPORT_BATCH_SIZE

STOPPED = (
    "Reading stopped: the CSV is malformed ({error}). Only the codes counted as inserted "
    "were added; correct the file and upload it again (the codes added now will then be "
    "reported as duplicated)."
)
FAILED_MESSAGE = (
    "The import failed on the server. The codes counted as inserted were added; upload the "
    "file again to add the rest (the codes added now will then be reported as duplicated)."
)


def start_upload(job_id: int, path: Path, filename: str) -> threading.Thread:
    """Import the saved file of a committed job in a thread of this process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_run, args=(app, job_id, path, filename), name=f"promo-upload-{job_id}"
    )
    thread.start()
    return thread


def _run(app: Flask, job_id: int, path: Path, filename: str) -> None:
    stop = threading.Event()
    heart = threading.Thread(
        target=_beat, args=(app, job_id, stop), name=f"promo-upload-{job_id}-heartbeat"
    )
    try:
        with app.app_context():
            session = promo_session()
            try:
                _import(session, job_id, path, filename, heart)
            except Exception:
                log.exception("upload job %s failed", job_id)
                session.rollback()
                end_job(session, job_id, FAILED, FAILED_MESSAGE)
                session.commit()
    except Exception:
        log.exception("upload job %s could not record its end", job_id)
    finally:
        stop.set()
        if heart.is_alive():
            heart.join()
        path.unlink(missing_ok=True)


def _import(
    session: Session, job_id: int, path: Path, filename: str, heart: threading.Thread
) -> None:
    job = session.get(UploadJob, job_id)
    program = session.get(LoyaltyProgram, job.loyalty_id)
    # Each batch's transaction records what it added in the history (events.py).
    written = events.BatchEvents(
        lambda: promo_connection(session),
        events.UPLOADED,
        job.admin_name or events.PAGE,
        loyalty_id=program.id,
    )
    start_job(session, job_id)
    session.commit()
    heart.start()
    report = UploadReport(keep=100)
    with open(path, "rb") as file:

        def commit(_report: UploadReport) -> None:
            record_progress(session, job_id, report, file.tell())
            written.written(report.counts(), file=filename)
            session.commit()

        try:
            import_codes(
                session,
                program,
                read_code_file(file, filename),
                report=report,
                batch_size=UPLOAD_BATCH,
                after_batch=commit,
            )
        except csv.Error as error:
            # The batch being read when the file broke is let go: the counts stay those of
            # the batches committed.
            session.rollback()
            end_job(session, job_id, DONE, STOPPED.format(error=error))
            session.commit()
            return
        record_progress(session, job_id, report, file.tell())
    written.written(report.counts(), file=filename)
    end_job(session, job_id, DONE)
    session.commit()


def _beat(app: Flask, job_id: int, stop: threading.Event) -> None:
    """Write the job's heartbeat every few seconds until told to stop."""
    with app.app_context():
        every = app.config["PROMO_UPLOAD_HEARTBEAT_SECONDS"]
        session = promo_session()
        while not stop.wait(every):
            try:
                beat(session, job_id)
                session.commit()
            except Exception:  # a busy database: the next beat tries again
                log.warning("upload job %s: heartbeat not written", job_id, exc_info=True)
                session.rollback()
