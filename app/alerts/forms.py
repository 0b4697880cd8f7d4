"""Forms of the alerts domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.alerts.models import EMAIL_MODES, SEVERITIES

SEVERITY_CHOICES = [(s, s.capitalize()) for s in SEVERITIES]
CASE_KINDS = [("seizure", "Seizure"), ("offence", "Offence"), ("investigation", "Investigation")]


class NoteForm(FlaskForm):
    """Acknowledge or close, with an optional note."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class ActionForm(FlaskForm):
    note = TextAreaField("What was done", validators=[DataRequired(), Length(max=2000)])


class FeedbackForm(FlaskForm):
    useful = SelectField("Was this alert useful?", choices=[("yes", "Yes"), ("no", "No")])
    note = TextAreaField("Why", validators=[Optional(), Length(max=2000)])


class BulkForm(FlaskForm):
    """Bulk acknowledgement: the ticked alert_ids come from the list's checkboxes."""


class CaseFromAlertForm(FlaskForm):
    kind = SelectField("Kind", choices=CASE_KINDS)
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])


class AttachCaseForm(FlaskForm):
    case = StringField("Case reference or number", validators=[DataRequired(), Length(max=64)])


class WatchEntityForm(FlaskForm):
    #: filled by the shared entity picker (type a name or identifier, pick one)
    entity_id = StringField("Entity", validators=[DataRequired(), Length(max=40)])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default="medium")


class WatchTermForm(FlaskForm):
    term = StringField("Term", validators=[DataRequired(), Length(min=3, max=200)])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default="low")


class SavedSearchForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    query = StringField("Query", validators=[DataRequired(), Length(min=2, max=500)])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default="low")


class PreferenceForm(FlaskForm):
    email_mode = SelectField("E-mail", choices=list(EMAIL_MODES.items()))
    min_severity = SelectField("Lowest severity e-mailed", choices=SEVERITY_CHOICES)


class WebhookForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    url = StringField("URL", validators=[DataRequired(), Length(max=500)])
    min_severity = SelectField("Lowest severity posted", choices=SEVERITY_CHOICES, default="high")


class AssignForm(FlaskForm):
    """Assign to an officer of the unit (the choices: who may open the alert's subject)."""

    user_id = SelectField("Assign to", choices=[], validate_choice=False)
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class EscalateForm(FlaskForm):
    reason = TextAreaField("Why escalate", validators=[DataRequired(), Length(max=2000)])


class ExportForm(FlaskForm):
    justification = StringField("Justification", validators=[DataRequired(), Length(max=500)])
