"""The page's upload: the form saves the file and starts a job, whose page shows its progress.

The request only reads the file once, to check it (UTF-8 text, a CSV's `code` column) while
saving it to the upload folder; a file refused there is the form again, with the message,
and nothing is imported. The import runs in a thread of the server (uploads.worker), so no
request waits for it: the job's page polls its state (a small JSON answer) and shows the
report once it is done.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..db.binding import reading
from ..importing.files import CodeFileError, check_code_file, check_columns
from ..models import LoyaltyProgram
from ..state import promo_session
from ..uploads.jobs import (
    INTERRUPTED,
    UNFINISHED,
    JobView,
    create_job,
    get_job,
    mark_interrupted,
    saved_file,
    view,
)
from ..uploads.worker import start_upload
from .blueprint import bp
from .errors import render_error, size_text
from .forms import UploadForm
from .views import CSRF_MESSAGE, _summary_or_404, refused_csrf

PROGRAM = "/programs/<int(max=2147483647):loyalty_id>"
NOT_SAVED = "The server could not save the file ({reason}). Nothing was imported."


def upload_folder() -> Path:
    """Where uploaded files wait for their job: PROMO_UPLOAD_FOLDER, or the instance folder's."""
    folder = current_app.config["PROMO_UPLOAD_FOLDER"]
    return Path(folder or os.path.join(current_app.instance_path, "promo-uploads"))


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["PROMO_UPLOAD_STALE_SECONDS"])


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """A body over the upload limit: the upload form again, saying so; elsewhere a page."""
    limit = size_text(current_app.config["PROMO_MAX_UPLOAD_BYTES"])
    message = f"The file is larger than the limit of {limit}. Nothing was imported."
    if request.endpoint == "promo_page.upload" and request.view_args:
        return render_upload_form(request.view_args["loyalty_id"], message, status=413)
    return render_error(413, message)


def render_upload_form(loyalty_id: int, error: str | None = None, status: int = 200, form=None):
    promo_session().rollback()
    with reading(promo_session()):
        summary = _summary_or_404(loyalty_id)
    limit = current_app.config["PROMO_MAX_UPLOAD_BYTES"]
    return render_template(
        "promo/upload.html",
        program=summary,
        form=form or UploadForm(formdata=None),
        error=error,
        limit=limit,
        limit_text=size_text(limit),
    ), status


@bp.route(f"{PROGRAM}/upload", methods=["GET", "POST"])
def upload(loyalty_id: int):
    with reading(promo_session()):
        program = promo_session().get(LoyaltyProgram, loyalty_id)
        if program is None:
            abort(404, "There is no loyalty program with this id.")
    form = UploadForm()
    if not form.validate_on_submit():
        if not form.is_submitted():
            return render_upload_form(loyalty_id, form=form)
        if refused_csrf(form):
            return render_upload_form(loyalty_id, CSRF_MESSAGE, 400)
        return render_upload_form(loyalty_id, " ".join(form.file.errors), 400, form)
    file = form.file.data
    filename = file.filename or ""
    try:
        saved = _save_checked(file.stream, filename)
    except CodeFileError as error:
        return render_upload_form(loyalty_id, f"{error} Nothing was imported.", 400)
    except OSError as error:
        message = NOT_SAVED.format(reason=error.strerror or "no room")
        return render_upload_form(loyalty_id, message, 503)
    finally:
        file.close()
    try:
        signed_in = getattr(g, "promo_admin", None)
        job = create_job(
            promo_session(),
            program,
            filename,
            signed_in.name if signed_in else None,
            saved.stat().st_size,
        )
        promo_session().commit()
        path = saved.replace(saved_file(saved.parent, job.id))
    except BaseException:
        promo_session().rollback()
        saved.unlink(missing_ok=True)
        raise
    start_upload(job.id, path, filename)
    return redirect(url_for(".upload_job", loyalty_id=loyalty_id, job_id=job.id), 303)


def _save_checked(stream, filename: str) -> Path:
    """Copy the upload to the upload folder while checking it; remove the copy if refused."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", delete=False) as copy:
        path = Path(copy.name)
        try:
            check_code_file(stream, copy_to=copy)
            copy.flush()
            copy.seek(0)
            check_columns(copy, filename)
        except BaseException:
            copy.close()
            path.unlink(missing_ok=True)
            raise
    return path


def _job_or_404(loyalty_id: int, job_id: int) -> JobView:
    """Read a job; one whose heartbeat went stale is recorded as interrupted."""
    session = promo_session()
    with reading(session):
        job = get_job(session, loyalty_id, job_id)
        if job is None:
            abort(404, "There is no upload with this id in this loyalty program.")
        session.expunge(job)  # plain values from here on
    shown = view(job, stale_after())
    if shown.status == INTERRUPTED and job.status in UNFINISHED:
        if mark_interrupted(session, job_id, stale_after()):
            saved_file(upload_folder(), job_id).unlink(missing_ok=True)  # if kept here
        session.commit()
    return shown


@bp.get(f"{PROGRAM}/uploads/<int(max=2147483647):job_id>")
def upload_job(loyalty_id: int, job_id: int):
    shown = _job_or_404(loyalty_id, job_id)
    with reading(promo_session()):
        summary = _summary_or_404(loyalty_id)
    return render_template("promo/upload_job.html", program=summary, shown=shown)


@bp.get(f"{PROGRAM}/uploads/<int(max=2147483647):job_id>.json")
def upload_job_state(loyalty_id: int, job_id: int):
    response = jsonify(_job_or_404(loyalty_id, job_id).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response
