"""The page's code generator: a form, then a page that shows the progress as it goes.

The pattern and the count are checked before anything is written (a refusal is the form
again, with the message). The codes are then written step by step, each step committed,
and the answer is streamed: a progress bar after each step (the style sheet shows only the
latest, so it works without JavaScript), then the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import abort, render_template, stream_template
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import events
from ..db.binding import promo_connection, reading
from ..generating.patterns import ALPHABETS, DEFAULT_ALPHABET, MIN_BITS, Pattern, PatternError
from ..generating.writing import GenerationReport, generate_codes
from ..importing.report import ImportReport
from ..models import LoyaltyProgram
from ..state import promo_session
from ..times import parse_expire_date
from .auth import actor
from .blueprint import bp
from .views import CSRF_MESSAGE, refused_csrf

# The most codes one run of the form makes; the CLI has no such bound.
MAX_COUNT = 10_000_000
COUNT_MESSAGE = f"Generate 1 to {MAX_COUNT:,} codes at a time."
ALPHABET_NAMES = {
    "unambiguous": "no look-alikes: without 0 O 1 I L 5 S 2 Z 8 B",
    "full": "all: A-Z and 0-9",
}


class GenerateForm(FlaskForm):
    count = IntegerField(
        "How many codes",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_COUNT, message=COUNT_MESSAGE)],
    )
    prefix = StringField("Prefix", validators=[Length(max=255)], default="")
    pattern = StringField(
        "Pattern", validators=[InputRequired(), Length(max=255)], default="****-****"
    )
    suffix = StringField("Suffix", validators=[Length(max=255)], default="")
    alphabet = SelectField(
        "Alphabet",
        choices=[SelectChoice(name, ALPHABET_NAMES[name]) for name in ALPHABETS],
        default=DEFAULT_ALPHABET,
    )
    expire_date = StringField("Expires (optional)", validators=[Optional(), Length(max=40)])
    force = BooleanField(f"Allow a pattern under {MIN_BITS} bits (easier to guess)")


@dataclass
class Run:
    """What the streamed page shows at its end."""

    report: GenerationReport | None = None
    error: str | None = None


def _form_page(program: LoyaltyProgram, form: GenerateForm, error: str | None = None):
    status = 400 if form.errors or error else 200
    return render_template(
        "promo/generate.html",
        program=program,
        form=form,
        error=error,
        min_bits=MIN_BITS,
        alphabets=ALPHABET_NAMES,
    ), status


@bp.route("/programs/<int:loyalty_id>/generate", methods=["GET", "POST"])
def generate(loyalty_id: int):
    with reading(promo_session()):
        program = promo_session().get(LoyaltyProgram, loyalty_id)
        if program is None:
            abort(404, "There is no loyalty program with this id.")
    form = GenerateForm()
    if not form.validate_on_submit():
        if refused_csrf(form):
            return _form_page(program, form, CSRF_MESSAGE)
        return _form_page(program, form)
    try:
        expiry = parse_expire_date(form.expire_date.data) if form.expire_date.data else None
    except ValueError as error:
        form.expire_date.errors.append(str(error))
        return _form_page(program, form)
    try:
        pattern = Pattern(form.pattern.data, form.prefix.data, form.suffix.data, form.alphabet.data)
        steps = generate_codes(
            promo_session(),
            program,
            pattern,
            form.count.data,
            expire_date=expiry,
            force=form.force.data,
            after_batch=_committer(loyalty_id, pattern.text),
        )
    except PatternError as error:
        promo_session().rollback()
        getattr(form, error.field).errors.append(str(error))
        return _form_page(program, form)
    run = Run()
    return stream_template(
        "promo/generating.html",
        program=program,
        pattern=pattern,
        count=form.count.data,
        steps=_steps(steps, run),
        run=run,
    )


def _committer(loyalty_id: int, pattern: str) -> Callable[[ImportReport], None]:
    """Commit each step of a generation with its event (the codes it added)."""
    written = events.BatchEvents(
        lambda: promo_connection(promo_session()), events.GENERATED, actor(), loyalty_id=loyalty_id
    )

    def commit(report: ImportReport) -> None:
        written.written({"inserted": report.inserted}, pattern=pattern)
        promo_session().commit()

    return commit


def _steps(steps: Iterator[GenerationReport], run: Run) -> Iterator[GenerationReport]:
    """Go through the steps for the template, keeping the last report or the refusal."""
    try:
        for report in steps:
            run.report = report
            yield report
    except PatternError as error:
        run.error = str(error)
    finally:
        promo_session().rollback()  # committed steps stay; nothing is left open
