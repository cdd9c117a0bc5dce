"""The page's views: read the form or the query, call one service function, render."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)

from .. import events
from ..admins import authenticate_admin, end_sessions, session_nonce
from ..db.binding import promo_connection, reading
from ..history import EventFilter, recent_events
from ..models import LoyaltyProgram
from ..profiles.matching import CUSTOMER_KEYS
from ..programs import ProgramNameError, create_program, databases
from ..rate_limits import count_failed_sign_in, sign_in_wait
from ..state import promo_session
from ..text import spreadsheet_safe
from ..times import rfc3339
from ..uploads.jobs import JobView, recent_jobs, view
from .auth import SESSION_KEY, actor, safe_next, start_session
from .blueprint import bp
from .errors import render_error
from .export import EXPORT_COLUMNS, iter_codes
from .forms import ProgramForm, SignInForm, SignOutForm
from .queries import CodeFilter, list_codes, program_summaries
from .statuses import STATUSES

CSRF_MESSAGE = (
    "The form was too old or did not come from this page, so nothing was done. "
    "Reload the page and send it again."
)


def refused_csrf(form) -> bool:
    return "csrf_token" in form.errors


# Signing in ------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    error = None
    status = 200
    headers = {}
    if form.validate_on_submit():
        # Spent limits answer before the password is looked at: guessing costs time.
        wait = sign_in_wait(form.name.data)
        admin = None
        if not wait:
            admin = authenticate_admin(promo_session(), form.name.data, form.password.data)
        if admin is not None:
            target = safe_next(request.args.get("next"))
            start_session(admin.id, session_nonce(promo_session(), admin))
            _record(events.ADMIN_SIGNED_IN, admin.name)
            promo_session().commit()
            return redirect(target)
        if wait:
            error, status = f"Too many failed sign-ins. Try again in {wait} seconds.", 429
            headers = {"Retry-After": str(wait)}
        else:
            count_failed_sign_in(form.name.data)
            _record(events.ADMIN_SIGN_IN_FAILED, form.name.data, address=request.remote_addr)
            promo_session().commit()
            error, status = "Wrong name or password.", 401
    elif refused_csrf(form):
        error, status = CSRF_MESSAGE, 400
    elif form.errors:
        error, status = (
            " ".join(message for messages in form.errors.values() for message in messages),
            400,
        )
    return render_template("promo/sign_in.html", form=form, error=error), status, headers


def _record(kind: str, who: str, loyalty_id: int | None = None, **detail) -> None:
    """Record an event of the page in the session's transaction; the caller commits."""
    connection = promo_connection(promo_session())
    events.record(connection, kind, who, loyalty_id=loyalty_id, detail=detail)


@bp.post("/logout")
def sign_out():
    form = SignOutForm()
    if not form.validate_on_submit():
        return render_error(400, CSRF_MESSAGE)
    if g.promo_admin is not None:  # None when the host's login decides (embedded)
        # Every session of this admin ends, a copied cookie too, on every server.
        end_sessions(promo_session(), g.promo_admin.id)
        promo_session().commit()
    session.pop(SESSION_KEY, None)
    return redirect(url_for("promo_page.sign_in"))


# Programs --------------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
def index():
    form = ProgramForm()
    with reading(promo_session()):
        choices = databases(promo_session())
    form.db_id.choices = [("", "no database: only unrestricted tokens reach it")] + [
        (str(db_id), f"{name} (db_id {db_id})") for db_id, name in choices
    ]
    if not form.is_submitted() and len(choices) == 1:
        form.db_id.data = str(choices[0][0])  # one shop: its programs serve its database
    if form.validate_on_submit():
        try:
            program = create_program(
                promo_session(),
                form.name.data,
                form.kind.data == "universal",
                int(form.db_id.data) if form.db_id.data else None,
                one_per_profile=form.one_per_profile.data,
                actor=actor(),
            )
        except ProgramNameError as error:
            form.name.errors.append(str(error))
        else:
            promo_session().commit()
            flash(f"Created the loyalty program {program.name!r} (loyalty_id {program.id}).")
            return redirect(url_for("promo_page.program", loyalty_id=program.id))
    with reading(promo_session()):
        programs = program_summaries(promo_session())
    return render_template(
        "promo/programs.html",
        form=form,
        csrf_refused=refused_csrf(form),
        csrf_message=CSRF_MESSAGE,
        programs=programs,
        threshold=current_app.config["PROMO_LOW_CODES_THRESHOLD"],
    ), (400 if form.errors else 200)


def _summary_or_404(loyalty_id: int):
    summaries = program_summaries(promo_session(), loyalty_id=loyalty_id)
    if not summaries:
        abort(404, "There is no loyalty program with this id.")
    return summaries[0]


def _code_filter(args=None) -> CodeFilter:
    """Read the list's filter from the query string (or the fields of a form)."""
    args = request.args if args is None else args
    status = args.get("status", "")
    prefix = args.get("q", "").strip()
    by = args.get("customer_by", "")
    return CodeFilter(
        status=status if status in STATUSES else None,
        prefix=prefix[:255],
        expires_from=_day(args.get("expires_from", ""), time.min),
        expires_to=_day(args.get("expires_to", ""), time(23, 59, 59)),
        customer=args.get("customer", "").strip()[:1024],
        customer_by=by if by in CUSTOMER_KEYS else "email",
    )


def _day(text: str, at: time) -> datetime | None:
    """A YYYY-MM-DD of the filter, at that time of the day; anything else is no bound."""
    try:
        return datetime.combine(date.fromisoformat(text.strip()), at) if text.strip() else None
    except ValueError:
        return None


def _key(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def recent_uploads(loyalty_id: int) -> list[JobView]:
    """The program's recent upload jobs, as plain values (in the caller's read transaction)."""
    jobs = recent_jobs(promo_session(), loyalty_id)
    for job in jobs:
        promo_session().expunge(job)
    stale = timedelta(seconds=current_app.config["PROMO_UPLOAD_STALE_SECONDS"])
    return [view(job, stale) for job in jobs]


@bp.get("/programs/<int(max=2147483647):loyalty_id>")
def program(loyalty_id: int):
    where = _code_filter()
    with reading(promo_session()):
        summary = _summary_or_404(loyalty_id)
        page = list_codes(
            promo_session(),
            loyalty_id,
            where,
            older_than=_key("before"),
            newer_than=_key("after"),
            size=current_app.config["PROMO_PAGE_SIZE"],
        )
        uploads = recent_uploads(loyalty_id)
        history = recent_events(
            promo_connection(promo_session()), EventFilter(loyalty_id=loyalty_id), RECENT_EVENTS
        )
    return render_template(
        "promo/program.html",
        program=summary,
        where=where,
        page=page,
        uploads=uploads,
        events=history,
        threshold=current_app.config["PROMO_LOW_CODES_THRESHOLD"],
    )


# How many of a program's events its page shows.
RECENT_EVENTS = 50


# Exporting ------------------------------------------------------------------------------


@bp.get("/programs/<int(max=2147483647):loyalty_id>/export.csv")
def export(loyalty_id: int):
    with reading(promo_session()):  # the stream runs its own short transactions
        if promo_session().get(LoyaltyProgram, loyalty_id) is None:
            abort(404, "There is no loyalty program with this id.")
    where = _code_filter()
    name = f"loyalty-{loyalty_id}-{where.status or 'all'}-codes.csv"
    detail = {"file": name, **where.args}
    if not events.record_apart(
        promo_session(), events.EXPORTED, actor(), loyalty_id=loyalty_id, detail=detail
    ):
        current_app.logger.warning("The export of program %s was not recorded.", loyalty_id)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for rows in iter_codes(promo_session(), loyalty_id, where):
            for row in rows:
                writer.writerow(
                    (
                        spreadsheet_safe(row.code),
                        row.status,
                        spreadsheet_safe(row.profile),
                        rfc3339(row.attached),
                        rfc3339(row.activated),
                        rfc3339(row.expire_date),
                    )
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
