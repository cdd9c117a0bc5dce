"""The page's API tokens: create one with its scope (shown once, with a copy button), see
every token with its scope and when it was made, last used and revoked, and revoke one.
The same domain functions as `promo create-token` and `promo revoke-token` (tokens.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.binding import reading
from ..errors import PromoError, ServiceError
from ..models import ApiToken, LoyaltyProgram
from ..programs import databases
from ..state import promo_session
from ..tokens import create_token, revoke_token
from .blueprint import bp
from .forms import ConfirmForm, TokenForm
from .views import CSRF_MESSAGE, refused_csrf


@dataclass(frozen=True)
class TokenRow:
    """A token as the list shows it; never its secret (only a hash is stored)."""

    id: int
    name: str
    databases: list[str]
    programs: list[str]
    read_only: bool
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


def token_rows(session: Session) -> list[TokenRow]:
    names = dict(databases(session))
    programs = dict(session.execute(select(LoyaltyProgram.id, LoyaltyProgram.name)).all())
    rows = []
    for token in session.scalars(select(ApiToken).order_by(ApiToken.id)):
        db_ids = sorted(scope.db_id for scope in token.scopes)
        loyalty_ids = sorted(scope.loyalty_id for scope in token.program_scopes)
        rows.append(
            TokenRow(
                id=token.id,
                name=token.name,
                databases=[f"{names.get(i, '?')} (#{i})" for i in db_ids],
                programs=[f"{programs.get(i, '?')} (#{i})" for i in loyalty_ids],
                read_only=token.read_only,
                created=token.created,
                last_used=token.last_used_at,
                revoked=token.revoked,
            )
        )
    return rows


def problem(error: Exception) -> str:
    """Say what was wrong with the form, in the service's words."""
    if isinstance(error, PromoError) and error.errors:
        return " ".join(message for messages in error.errors.values() for message in messages)
    if isinstance(error, PromoError):
        return error.error_text + "."
    return str(error)


def _choices(form: TokenForm) -> None:
    session = promo_session()
    form.db_ids.choices = [(i, f"{name} (#{i})") for i, name in databases(session)]
    form.loyalty_ids.choices = [
        (program.id, f"{program.name} (#{program.id})")
        for program in session.scalars(select(LoyaltyProgram).order_by(LoyaltyProgram.id))
    ]


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    with reading(promo_session()):
        _choices(form)
    error, secret, created_name, status = None, None, None, 200
    if form.validate_on_submit():
        created_name = form.name.data.strip()
        try:
            secret = create_token(
                promo_session(),
                form.name.data,
                form.db_ids.data,
                loyalty_ids=form.loyalty_ids.data,
                read_only=form.read_only.data,
            )
            promo_session().commit()
        except (ServiceError, IntegrityError) as refused:
            promo_session().rollback()
            secret, status = None, 400
            error = (
                f"A token named {form.name.data.strip()!r} exists already."
                if isinstance(refused, IntegrityError)
                else problem(refused)
            )
    elif refused_csrf(form):
        error, status = CSRF_MESSAGE, 400
    elif form.errors:
        status = 400
    if secret:
        form = TokenForm(formdata=None)  # a blank form for the next one
    with reading(promo_session()):
        _choices(form)
        rows = token_rows(promo_session())
    html = render_template(
        "promo/tokens.html",
        form=form,
        error=error,
        secret=secret,
        created_name=created_name,
        rows=rows,
        revoke_form=ConfirmForm(formdata=None),
    )
    # The secret is on this page only: no cache may keep it.
    return html, status, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int(max=2147483647):token_id>/revoke")
def revoke(token_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, CSRF_MESSAGE)
    token = promo_session().get(ApiToken, token_id)
    if token is None:
        abort(404, "There is no token with this id.")
    was_revoked = token.revoked is not None
    revoke_token(promo_session(), token.name)
    promo_session().commit()
    if was_revoked:
        flash(f"The token {token.name!r} was revoked already.")
    else:
        flash(f"Revoked the token {token.name!r}: calls with it are refused from now on.")
    return redirect(url_for("promo_page.tokens"))
