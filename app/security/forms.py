"""Forms of the security domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.security.roles import API_SCOPES, ROLE_LABELS

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = StringField(
        "E-mail",
        validators=[
            Optional(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="not an e-mail address"),
            Length(max=254),
        ],
    )
    unit_id = SelectField("Unit", coerce=int)
    supervisor_id = SelectField("Supervisor", coerce=int)
    roles = SelectMultipleField("Roles", choices=list(ROLE_LABELS.items()))
    password = PasswordField(
        "Password (12+ characters; leave empty to keep)",
        validators=[Optional(), Length(min=12, max=256)],
    )
    is_active = BooleanField("Active", default=True)


class UnitForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=[
            ("border", "Border crossing / office"),
            ("intelligence", "Intelligence unit"),
            ("risk", "Risk management unit"),
            ("audit", "Post-clearance audit team"),
            ("hq", "Headquarters"),
            ("office", "Other office"),
        ],
    )


class ApiClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    unit_id = SelectField("Unit", coerce=int)
    scopes = SelectMultipleField(
        "Scopes", choices=list(API_SCOPES.items()), validators=[DataRequired()]
    )


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with a CSRF token."""


class TrailExportForm(FlaskForm):
    justification = TextAreaField("Justification", validators=[DataRequired(), Length(max=1000)])
