"""Forms of the audit domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.audit.models import DEBT_KINDS, TRADER_ROLES


class SelectionForm(FlaskForm):
    capacity = IntegerField(
        "Audit capacity for the period",
        validators=[DataRequired(), NumberRange(min=1, max=500)],
        description="How many audits the unit can run in the period.",
    )
    period_start = DateField("Audited period from", validators=[DataRequired()])
    period_end = DateField("Audited period to", validators=[DataRequired()])
    random_share = DecimalField(
        "Random share",
        places=2,
        validators=[Optional(), NumberRange(min=0, max=1)],
        description="Share of the capacity drawn at random (exploration); "
        "empty = the platform's exploration share.",
    )
    role = SelectField("Traders", choices=list(TRADER_ROLES.items()), default="importer")
    rank_by = SelectField(
        "Rank by",
        choices=[
            ("findings", "Expected findings (chance an audit finds non-compliance)"),
            ("yield", "Expected yield (revenue an audit would recover)"),
        ],
        default="findings",
    )
    audit_type = SelectField(
        "Audit type", choices=[("desk", "Desk audit"), ("field", "Field audit")]
    )


class RecomputeForm(FlaskForm):
    as_of = DateField(
        "Evaluation date",
        validators=[Optional()],
        description="Ratings use the history up to this date; empty = today.",
    )


class DebtForm(FlaskForm):
    kind = SelectField("Kind of debt", choices=list(DEBT_KINDS.items()))
    amount = StringField(
        "Amount",
        validators=[DataRequired()],
        description="A negative amount corrects an earlier one (give the reason).",
    )
    note = StringField("Note or reason", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A bare form: CSRF token only (buttons that post)."""


class TrainForm(FlaskForm):
    test_share = DecimalField(
        "Held-out share (latest dates)",
        places=2,
        default=0.2,
        validators=[DataRequired(), NumberRange(min=0.05, max=0.5)],
    )
    note = StringField("Note", validators=[Optional()])


class SettingsForm(FlaskForm):
    exploration_share = DecimalField(
        "Exploration share",
        places=2,
        validators=[DataRequired(), NumberRange(min=0, max=0.5)],
        description="Share of every selection drawn at random so the model keeps learning "
        "on unbiased labels (about 10% recommended).",
    )
    recent_audit_months = IntegerField(
        "Do not propose traders audited within (months)",
        validators=[DataRequired(), NumberRange(min=0, max=120)],
    )
    rating_window_months = IntegerField(
        "Rating window (months)", validators=[DataRequired(), NumberRange(min=1, max=60)]
    )
