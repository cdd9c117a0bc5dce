"""The page's forms: every one is a FlaskForm, so every one carries its own CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from ..text import unstorable


def storable(_form, field) -> None:
    """Refuse text that a database cannot store (NUL, lone surrogates) with a message."""
    problem = unstorable(field.data or "")
    if problem:
        raise ValidationError(problem)


class SignInForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255), storable])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SignOutForm(FlaskForm):
    pass


class ProgramForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255), storable])
    kind = RadioField(
        "Codes are",
        choices=[
            SelectChoice("personal", "personal: each goes to one customer"),
            SelectChoice("universal", "universal: each may go to any number of customers"),
        ],
        default="personal",
    )
    # Choices are the databases, set by the view; "" is none (unrestricted tokens only).
    db_id = SelectField("Serves the customers of", choices=[], default="")
    one_per_profile = BooleanField(
        "One code per customer: a customer who holds a code of this program gets that code "
        "again from the pool, not a second one"
    )


class FieldForm(FlaskForm):
    """A custom field for a database that may already have customers."""

    name = StringField("New custom field", validators=[DataRequired(), Length(max=255), storable])


class UploadForm(FlaskForm):
    file = FileField(
        "File of codes",
        validators=[
            FileRequired("Choose a file to upload."),
            FileAllowed(["txt", "csv"], "Upload a .txt or a .csv file."),
        ],
    )


class TokenForm(FlaskForm):
    """A new API token and its scope, as `promo create-token` takes it."""

    name = StringField("Name", validators=[DataRequired(), Length(max=255), storable])
    # Choices are the databases and programs, set by the view; none ticked: all of them.
    db_ids = SelectMultipleField("Limited to the databases", choices=[], coerce=int)
    loyalty_ids = SelectMultipleField("Limited to the programs", choices=[], coerce=int)
    read_only = BooleanField("Read only: it may call get and export_all, nothing else")


class AdminForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255), storable])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
