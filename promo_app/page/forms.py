"""The page's forms: every one is a FlaskForm, so every one carries its own CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SignOutForm(FlaskForm):
    pass


class ProgramForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    kind = RadioField(
        "Codes are",
        choices=[
            SelectChoice("personal", "personal: each goes to one customer"),
            SelectChoice("universal", "universal: each may go to any number of customers"),
        ],
        default="personal",
    )
    one_per_profile = BooleanField(
        "One code per customer: a customer who holds a code of this program gets that code "
        "again from the pool, not a second one"
    )


class UploadForm(FlaskForm):
    file = FileField(
        "File of codes",
        validators=[
            FileRequired("Choose a file to upload."),
            FileAllowed(["txt", "csv"], "Upload a .txt or a .csv file."),
        ],
    )
