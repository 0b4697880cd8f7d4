"""Forms of the risk domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.risk.models import CHANNEL_LABELS, CHANNELS, FRAUD_TYPES
from app.risk.profiles import LIST_KINDS
from app.security.roles import ROLE_LABELS

CONTROL_LANES = [(c, CHANNEL_LABELS[c]) for c in CHANNELS if c != "green"]


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    risk_area = TextAreaField(
        "Risk area",
        validators=[DataRequired(), Length(max=10000)],
        description="What fraud or threat this profile targets.",
    )
    assessment = TextAreaField(
        "Assessment",
        validators=[Length(max=10000)],
        description="Likelihood, impact and the sources behind them.",
    )
    channel = SelectField("Channel", choices=CONTROL_LANES, default="red")
    instructions = TextAreaField("Instructions to the officer", validators=[Length(max=10000)])
    is_sensitive = BooleanField("Sensitive (alert the recipients when it fires)")
    recipient_users = SelectMultipleField("Alert users", coerce=int, validate_choice=False)
    recipient_units = SelectMultipleField("Alert units", coerce=int, validate_choice=False)
    recipient_roles = SelectMultipleField("Alert roles", choices=list(ROLE_LABELS.items()))
    valid_from = DateField("Valid from", validators=[Optional()])
    valid_to = DateField("Valid until", validators=[Optional()])
    conditions_json = HiddenField("Conditions")


class SimulateForm(FlaskForm):
    date_from = DateField("History from", validators=[Optional()])
    date_to = DateField("History to", validators=[Optional()])


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ControlResultForm(FlaskForm):
    inspected = BooleanField("Inspected", default=True)
    compliant = SelectField(
        "Outcome", choices=[("", "—"), ("true", "Compliant"), ("false", "Not compliant")]
    )
    fraud_type = SelectField("Fraud type", choices=[("", "—"), *FRAUD_TYPES.items()])
    revenue_recovered = FloatField("Revenue recovered", validators=[Optional(), NumberRange(min=0)])
    goods_seized = BooleanField("Goods seized (opens a seizure case)")
    critical = BooleanField("Threatens public safety")
    findings = TextAreaField("Findings", validators=[Length(max=10000)])
    reason = TextAreaField("Reason for the correction", validators=[Length(max=2000)])


class RaiseForm(FlaskForm):
    to_channel = SelectField("Raise to", choices=CONTROL_LANES)
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])


class DecideForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = StringField("Note", validators=[Length(max=2000)])


class ListForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    kind = SelectField("Holds", choices=list(LIST_KINDS.items()))
    values = TextAreaField(
        "Values", validators=[DataRequired()], description="Separated by commas or new lines."
    )
    description = StringField("Description", validators=[Length(max=500)])


class ImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired()])
    mapping = TextAreaField(
        "Column mapping (optional)",
        description="One per line: field = Column name, e.g. hs_code = Commodity. "
        "Without a mapping the KCS column names (or the field names) are used.",
    )
    on_duplicate = SelectField(
        "Declarations already present", choices=[("error", "are an error"), ("skip", "are skipped")]
    )
    dry_run = BooleanField("Only check the file (write nothing)")


#: WTForms formats the message with %: a literal percent sign is written %%
_PERCENT = "must be between 0 and 100 %%"


def rates_form_class():
    """A form with a target and a random rate per lane plus the ML threshold."""

    class RatesForm(FlaskForm):
        ml_threshold = FloatField(
            "ML score threshold",
            validators=[
                Optional(),
                NumberRange(0, 1, message="must be a score between 0 and 1, e.g. 0.8"),
            ],
        )
        ml_channel = SelectField("Lane for scores above it", choices=CONTROL_LANES)
        rotate_seed = BooleanField("Draw a new random seed (recorded in the history)")

    for channel in CHANNELS:
        setattr(
            RatesForm,
            f"target_{channel}",
            FloatField(
                f"{channel} target (%)",
                validators=[Optional(), NumberRange(0, 100, message=_PERCENT)],
            ),
        )
        setattr(
            RatesForm,
            f"random_{channel}",
            FloatField(
                f"{channel} minimum random (%)",
                validators=[Optional(), NumberRange(0, 100, message=_PERCENT)],
            ),
        )
    return RatesForm
