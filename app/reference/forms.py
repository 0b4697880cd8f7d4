"""Forms of the reference lists (Flask-WTF: every form carries a CSRF token).

Fields are text: the service checks them (ranges, codes) and names what is wrong."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional


class EntryForm(FlaskForm):
    code = StringField("Code", validators=[Optional(), Length(max=20)])
    label = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = StringField("Kind", validators=[Optional(), Length(max=20)])
    country = StringField("Country (ISO 3166-1 alpha-2)", validators=[Optional(), Length(max=2)])
    latitude = StringField("Latitude (WGS 84)", validators=[Optional(), Length(max=30)])
    longitude = StringField("Longitude (WGS 84)", validators=[Optional(), Length(max=30)])
    max_rate = StringField("Highest rate, %", validators=[Optional(), Length(max=30)])


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


class LoadForm(FlaskForm):
    file = FileField("CSV file (UTF-8)", validators=[FileRequired()])
