"""The page's actions on codes: on one code (from its row) or on the filtered set.

Every action is asked first and confirmed second. The first step counts the codes the
action would change and shows that number; the confirmation carries the selection (the
filter, the highest id then, the number shown) and is refused if the number has changed
since, so a merchant never changes codes they were not shown. The work is done by
`code_actions`, batch by batch.
"""

from __future__ import annotations

from datetime import time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement

from ..code_actions import ACTIONS, Selection, count_changed, highest_id, run_action
from ..db.binding import promo_connection, reading
from ..history import EventFilter, recent_events
from ..models import LoyaltyProgram, PromoCode
from ..state import promo_session
from ..times import utcnow
from .auth import actor
from .blueprint import bp
from .queries import CodeFilter, filter_condition, list_codes
from .views import CSRF_MESSAGE, _code_filter, _day, refused_csrf

DONE = {
    "expire": "Expired",
    "set_expiry": "Set the expiry of",
    "clear_expiry": "Cleared the expiry of",
    "detach": "Detached",
    "activate": "Marked activated",
    "void": "Voided",
}


# How many of a code's events its page shows, newest first.
CODE_EVENTS = 200


class ActionForm(FlaskForm):
    """Only the CSRF token: the fields are read from the form as the page wrote them."""


@bp.context_processor
def _action_globals():
    return {"action_form": lambda: ActionForm(formdata=None), "code_actions": ACTIONS}


def _program(loyalty_id: int) -> LoyaltyProgram:
    program = promo_session().get(LoyaltyProgram, loyalty_id)
    if program is None:
        abort(404, "There is no loyalty program with this id.")
    return program


def _code_id() -> int | None:
    value = request.form.get("code_id", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def _selection(loyalty_id: int, max_id: int) -> tuple[Selection, CodeFilter, int | None]:
    """Read what the action is for: one code (`code_id`) or the filter's codes."""
    where = _code_filter(request.form)
    code_id = _code_id()
    condition: ColumnElement[bool] = filter_condition(promo_session(), where, utcnow())
    if code_id is not None:
        condition = PromoCode.id == code_id
    expiry = _day(request.form.get("expire_date", ""), time(23, 59, 59))
    return Selection(loyalty_id, condition, max_id, expiry), where, code_id


def _back(loyalty_id: int, where: CodeFilter, code_id: int | None):
    if code_id is not None:
        return url_for("promo_page.code", loyalty_id=loyalty_id, code_id=code_id)
    return url_for("promo_page.program", loyalty_id=loyalty_id, **where.args)


def _refuse(program, where, code_id, message: str, status: int = 400):
    return render_template(
        "promo/action_refused.html",
        program=program,
        message=message,
        back=_back(program.id, where, code_id),
    ), status


@bp.post("/programs/<int:loyalty_id>/actions")
def ask_action(loyalty_id: int):
    """Count what the action would change and ask to confirm."""
    form = ActionForm()
    action = request.form.get("action", "")
    with reading(promo_session()):
        program = _program(loyalty_id)
        selection, where, code_id = _selection(loyalty_id, highest_id(promo_session(), loyalty_id))
        if not form.validate_on_submit():
            return _refuse(program, where, code_id, CSRF_MESSAGE if refused_csrf(form) else "")
        if action not in ACTIONS:
            return _refuse(program, where, code_id, "Choose an action.")
        if action == "set_expiry" and selection.expire_date is None:
            return _refuse(program, where, code_id, "Give the new expiry date (YYYY-MM-DD).")
        touched = count_changed(promo_session(), selection, action)
        code = promo_session().get(PromoCode, code_id) if code_id is not None else None
        if code_id is not None and (code is None or code.loyalty_id != loyalty_id):
            abort(404, "There is no such code in this program.")
        page = render_template(
            "promo/confirm_action.html",
            program=program,
            action=action,
            action_text=ACTIONS[action],
            selection=selection,
            where=where,
            code=code,
            touched=touched,
            form=form,
            back=_back(loyalty_id, where, code_id),
            expire_date=request.form.get("expire_date", ""),
        )
    if touched == 0:
        return _refuse(
            program,
            where,
            code_id,
            f"No code of this selection would change: nothing to {ACTIONS[action]}. "
            "Nothing was done.",
        )
    return page


@bp.post("/programs/<int:loyalty_id>/actions/confirm")
def confirm_action(loyalty_id: int):
    """Do the action if the selection still holds the codes the merchant was shown."""
    form = ActionForm()
    action = request.form.get("action", "")
    max_id = request.form.get("max_id", "")
    expected = request.form.get("touched", "")
    with reading(promo_session()):
        program = _program(loyalty_id)
        name = program.name
        if not (max_id.isdigit() and expected.isdigit() and len(max_id) < 19):
            abort(400, "The confirmation is incomplete; ask for the action again.")
        selection, where, code_id = _selection(loyalty_id, int(max_id))
        if not form.validate_on_submit():
            return _refuse(program, where, code_id, CSRF_MESSAGE if refused_csrf(form) else "")
        if action not in ACTIONS or (action == "set_expiry" and selection.expire_date is None):
            return _refuse(program, where, code_id, "Choose an action.")
        now = utcnow()
        touched = count_changed(promo_session(), selection, action, now)
        code = promo_session().get(PromoCode, code_id) if code_id is not None else None
        code_text = code.code if code is not None and code.loyalty_id == loyalty_id else None
    if touched != int(expected):
        return _refuse(
            program,
            where,
            code_id,
            f"The selection changed since you confirmed: it was {int(expected):,} codes to "
            f"{ACTIONS[action]}, it is {touched:,} now. Nothing was done; look at it again.",
            409,
        )
    changed = sum(
        run_action(promo_session(), selection, action, now=now, actor=actor(), code=code_text)
    )
    flash(f"{DONE[action]} {changed:,} code{'' if changed == 1 else 's'} of {name}.")
    return redirect(_back(loyalty_id, where, code_id))


@bp.get("/programs/<int:loyalty_id>/codes/<int:code_id>")
def code(loyalty_id: int, code_id: int):
    """One code, with the actions that can be done to it."""
    with reading(promo_session()):
        program = _program(loyalty_id)
        promo = promo_session().get(PromoCode, code_id)
        if promo is None or promo.loyalty_id != loyalty_id:
            abort(404, "There is no such code in this program.")
        rows = list_codes(
            promo_session(), loyalty_id, CodeFilter(), older_than=code_id + 1, size=1
        ).rows
        history = recent_events(
            promo_connection(promo_session()),
            EventFilter(loyalty_id=loyalty_id, code=promo.code),
            CODE_EVENTS,
        )
        return render_template(
            "promo/code.html",
            program=program,
            row=rows[0],
            form=ActionForm(),
            actions=ACTIONS,
            history=history,
        )
