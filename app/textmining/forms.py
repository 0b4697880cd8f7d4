"""Forms of the news domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.textmining.terms_builtin import TERM_CATEGORIES, WORKBENCH_CATEGORIES


class FeedForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    url = StringField(
        "Feed address (RSS or Atom)",
        validators=[DataRequired(), Length(max=1000)],
        description="http:// or https://; private and loopback addresses are "
        "refused unless the host is allowed below.",
    )
    keywords = TextAreaField(
        "Keywords this source should catch",
        validators=[Optional(), Length(max=4000)],
        description="One per line or comma-separated; articles are "
        "tagged with the keywords they contain.",
    )
    interval_minutes = IntegerField(
        "Initial polling interval (minutes)",
        default=60,
        validators=[Optional(), NumberRange(min=5, max=1440)],
    )


class TermForm(FlaskForm):
    category = SelectField("Category", choices=list(TERM_CATEGORIES.items()))
    canonical = StringField("Canonical term", validators=[DataRequired(), Length(max=200)])
    synonyms = TextAreaField(
        "Synonyms, street names, spellings",
        validators=[Optional(), Length(max=20000)],
        description="One per line. Matching ignores case; start a line "
        "with = to match an exact spelling (=May).",
    )
    is_active = BooleanField("Active", default=True)


class HostForm(FlaskForm):
    host = StringField("Host", validators=[DataRequired(), Length(max=255)])
    note = StringField("Why it is allowed", validators=[Optional(), Length(max=300)])


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (pause, resume, test, seed ...)."""


class WorkbenchForm(FlaskForm):
    category = HiddenField(validators=[DataRequired()])
    canonical = HiddenField(validators=[DataRequired(), Length(max=300)])
    name = StringField("Name in the registry", validators=[Optional(), Length(max=300)])
    entity_type = SelectField(
        "Type",
        choices=[(c, c) for c in WORKBENCH_CATEGORIES],
        validators=[Optional()],
        validate_choice=False,  # the service refuses an unknown type, naming the field
    )
    #: chosen with the shared entity picker (an id; text that is not one is refused)
    entity_id = StringField("Existing entity", validators=[Optional(), Length(max=40)])
    handling_code = SelectField("Handling", choices=[("P", "P"), ("C", "C")], default="P")
