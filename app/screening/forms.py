"""Forms of the screening administrator pages (Flask-WTF: every form carries a CSRF token).

Fields are text where the service checks them and names what is wrong."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class LoadForm(FlaskForm):
    file = FileField(
        "List file: FtM JSON lines, or CSV with a mapping", validators=[FileRequired()]
    )
    mapping = FileField("Mapping of the CSV's columns (JSON; leave empty for FtM)")
    name = StringField("List name", validators=[DataRequired(), Length(max=120)])
    source = StringField("Source", validators=[Optional(), Length(max=200)])
    version_date = StringField("Version date (YYYY-MM-DD)", validators=[DataRequired()])
    sensitivity = SelectField(
        "Sensitivity", choices=[("P", "P - public"), ("C", "C - confidential")], default="P"
    )
    threshold = StringField("Threshold (0..1; new lists 0.7)", validators=[Optional()])


class SettingsForm(FlaskForm):
    threshold = StringField("Threshold (0..1)", validators=[DataRequired()])
    is_active = BooleanField("Screen against this list")
