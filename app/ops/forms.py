"""Forms of the operations domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.ops.models import DECISIONS


class DecisionForm(FlaskForm):
    decision = SelectField("Decision", choices=list(DECISIONS.items()))
    next_review = DateField("Next review (for keep)", validators=[Optional()])
    reason = TextAreaField(
        "Reason (recorded in the trail)", validators=[DataRequired(), Length(max=2000)]
    )
