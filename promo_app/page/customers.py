"""The page's customers: find one by email, phone, profile id or a custom field, and see
every code they hold in every program (with links to the programs)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.binding import promo_connection, reading
from ..errors import DatabaseNotFound
from ..models import Attachment, CustomField, Database, Profile, ProfileFieldValue
from ..profiles import DatabaseNameError
from ..profiles.databases import add_field
from ..profiles.matching import CUSTOMER_KEYS, customer_condition
from ..profiles.reading import profile_data
from ..state import promo_session
from .blueprint import bp
from .forms import FieldForm
from .views import CSRF_MESSAGE, refused_csrf

FOUND_AT_MOST = 50
BUILT_IN = {"email": "Email", "phone": "Phone", "profile_id": "Profile ID"}


@dataclass(frozen=True)
class Found:
    """A profile a search found, as its list shows it."""

    profile_id: str
    db_id: int
    email: str | None
    phone: str | None
    deleted: bool
    codes: int


def search(session: Session, db_id: int, by: str, value: str) -> list[Found]:
    """Find the profiles of database `db_id` whose `by` (email, phone, profile_id or
    field:NAME) is `value`, compared as the API compares it; deleted ones by profile_id."""
    codes = (
        select(func.count())
        .where(Attachment.profile_pk == Profile.id)
        .correlate(Profile)
        .scalar_subquery()
    )
    query = select(
        Profile.profile_id,
        Profile.db_id,
        Profile.email,
        Profile.phone,
        Profile.deleted.is_not(None),
        codes,
    ).where(Profile.db_id == db_id)
    if by in CUSTOMER_KEYS:
        query = query.where(customer_condition(by, value))
    elif by.startswith("field:"):
        query = (
            query.join(ProfileFieldValue, ProfileFieldValue.profile_pk == Profile.id)
            .join(CustomField, CustomField.id == ProfileFieldValue.field_id)
            .where(CustomField.name == by.removeprefix("field:"), ProfileFieldValue.value == value)
        )
    else:
        return []
    rows = session.execute(query.order_by(Profile.id).limit(FOUND_AT_MOST))
    return [Found(*row) for row in rows]


def _databases(session: Session) -> list[tuple[int, str, list[str]]]:
    databases = session.scalars(select(Database).order_by(Database.id)).all()
    return [(d.id, d.name, [field.name for field in d.custom_fields]) for d in databases]


@bp.get("/customers")
def customers():
    db_id = request.args.get("db_id", type=int)
    by = request.args.get("by", "email")
    value = request.args.get("value", "").strip()
    with reading(promo_session()):
        databases = _databases(promo_session())
        if db_id is None and databases:
            db_id = databases[0][0]
        found = search(promo_session(), db_id, by, value) if value and db_id else None
    return render_template(
        "promo/customers.html",
        databases=databases,
        db_id=db_id,
        by=by,
        value=value,
        built_in=BUILT_IN,
        found=found,
        at_most=FOUND_AT_MOST,
        field_form=FieldForm(),
    )


@bp.post("/customers/fields")
def add_custom_field():
    """Add a custom field to a database: the API, imports and the search use it at once."""
    form = FieldForm()
    db_id = request.form.get("db_id", type=int)
    if not form.validate_on_submit():
        messages = [CSRF_MESSAGE] if refused_csrf(form) else form.name.errors
        flash(f"No field was added: {' '.join(messages)}")
    elif db_id is None:
        flash("No field was added: choose a database.")
    else:
        try:
            field = add_field(promo_session(), db_id, form.name.data)
        except (DatabaseNameError, DatabaseNotFound) as error:
            promo_session().rollback()
            flash(f"No field was added: {_said(error)}")
        else:
            promo_session().commit()
            flash(f"Database {db_id} has a new custom field {field.name!r}.")
    return redirect(url_for("promo_page.customers", db_id=db_id))


def _said(error: Exception) -> str:
    return f"{error.error_text}." if isinstance(error, DatabaseNotFound) else str(error)


@bp.get("/customers/<profile_id>")
def customer(profile_id: str):
    with reading(promo_session()):
        pk = promo_session().scalar(select(Profile.id).where(Profile.profile_id == profile_id))
        if pk is None:
            abort(404, "No customer has this profile id.")
        profile = profile_data(promo_connection(promo_session()), pk)
        database = promo_session().scalar(select(Database.name).where(Database.id == profile.db_id))
    return render_template("promo/customer.html", profile=profile, database=database)
