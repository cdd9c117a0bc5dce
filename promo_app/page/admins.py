"""The page's admin users: add one, give one a new password, remove one. The last admin
cannot be removed; removing an admin or giving them a new password ends every session
they have (admins.py, the same functions as `promo create-admin`)."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..admins import AdminUserError, add_admin, remove_admin, reset_password
from ..db.binding import reading
from ..models import AdminUser
from ..state import promo_session
from .auth import SESSION_KEY, start_session
from .blueprint import bp
from .forms import AdminForm, ConfirmForm, PasswordForm
from .views import CSRF_MESSAGE, refused_csrf


def _own_sign_in_only() -> None:
    """Admin users sign in to the standalone page only; embedded, the host's login decides."""
    if current_app.config["PROMO_ADMIN_AUTHORIZE"] is not None:
        abort(404, "The host's own sign-in decides who may use this page: it has no admins.")


def render_admins(form=None, error: str | None = None, status: int = 200):
    promo_session().rollback()
    with reading(promo_session()):
        admins = promo_session().scalars(select(AdminUser).order_by(AdminUser.name)).all()
        html = render_template(
            "promo/admins.html",
            admins=admins,
            form=form or AdminForm(formdata=None),
            password_form=PasswordForm(formdata=None),
            remove_form=ConfirmForm(formdata=None),
            error=error,
        )
    return html, status


@bp.route("/admins", methods=["GET", "POST"])
def admins():
    _own_sign_in_only()
    form = AdminForm()
    if form.validate_on_submit():
        try:
            added = add_admin(promo_session(), form.name.data, form.password.data)
            name = added.name
            promo_session().commit()
        except (AdminUserError, IntegrityError) as refused:
            promo_session().rollback()
            message = str(refused) if isinstance(refused, AdminUserError) else None
            return render_admins(form, message or "An admin with this name exists already.", 400)
        flash(f"Added the admin {name!r}: they can sign in now.")
        return redirect(url_for("promo_page.admins"))
    if refused_csrf(form):
        return render_admins(form, CSRF_MESSAGE, 400)
    return render_admins(form, status=400 if form.errors else 200)


@bp.post("/admins/<int(max=2147483647):admin_id>/password")
def reset_admin_password(admin_id: int):
    _own_sign_in_only()
    form = PasswordForm()
    if not form.validate_on_submit():
        message = CSRF_MESSAGE if refused_csrf(form) else "Type the new password."
        return render_admins(error=message, status=400)
    try:
        user = reset_password(promo_session(), admin_id, form.password.data)
        name, nonce = user.name, user.session_nonce
        promo_session().commit()
    except AdminUserError as refused:
        return render_admins(error=str(refused), status=400)
    if g.promo_admin is not None and g.promo_admin.id == admin_id:
        # Their own password: every other session ends, this browser stays signed in.
        start_session(admin_id, nonce)
        flash("Set your new password; your other sessions are over.")
    else:
        flash(f"Set a new password for {name!r}; every session they had is over.")
    return redirect(url_for("promo_page.admins"))


@bp.post("/admins/<int(max=2147483647):admin_id>/remove")
def remove(admin_id: int):
    _own_sign_in_only()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, CSRF_MESSAGE)
    try:
        name = remove_admin(promo_session(), admin_id)
        promo_session().commit()
    except AdminUserError as refused:
        return render_admins(error=str(refused), status=409)
    if g.promo_admin is not None and g.promo_admin.id == admin_id:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("promo_page.sign_in"))
    flash(f"Removed the admin {name!r}; every session they had is over.")
    return redirect(url_for("promo_page.admins"))
