"""Forms of the intelligence domain (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextInput

from app.core.errors import ValidationError
from app.intel.grading import INTEL_GRADES, SOURCE_GRADES
from app.intel.models import ENTITY_TYPES, LINK_TYPES
from app.security.access import HANDLING_CODES

HANDLING_CHOICES = list(HANDLING_CODES.items())


def parse_pairs(text: str, field: str) -> dict:
    """ "scheme: value" lines -> dict; a malformed line is reported with its number."""
    pairs = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise ValidationError({field: f"line {number}: write it as 'name: value'"})
        key, value = line.split(":", 1)
        pairs[key.strip().lower()] = value.strip()
    return pairs


def format_pairs(mapping: dict | None) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (mapping or {}).items())


class EntityForm(FlaskForm):
    entity_type = SelectField("Type", choices=list(ENTITY_TYPES.items()))
    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    aliases = TextAreaField("Aliases (one per line)", validators=[Optional()])
    identifiers = TextAreaField(
        "Identifiers",
        validators=[Optional()],
        description="One per line as scheme: value, e.g. eori: DE123456789012345, "
        "container: MSCU1234566, imo: 9074729, iban: ..., passport: ...",
    )
    attributes = TextAreaField("Attributes (name: value per line)", validators=[Optional()])
    handling_code = SelectField("Handling code", choices=HANDLING_CHOICES, default="P")
    handling_conditions = TextAreaField("Handling conditions", validators=[Optional()])
    #: shown once an identifier turns out to be registered already
    duplicate_reason = TextAreaField(
        "Register anyway: why a second entity with this identifier",
        validators=[Optional(), Length(max=500)],
    )


class LinkForm(FlaskForm):
    target_id = IntegerField(
        "Linked entity (type a name, pick one)", widget=TextInput(), validators=[DataRequired()]
    )
    link_type = SelectField("Relation", choices=list(LINK_TYPES.items()))
    direction = SelectField(
        "Direction",
        choices=[("out", "this entity → linked entity"), ("in", "linked entity → this entity")],
    )
    start_date = DateField("From", validators=[Optional()])
    end_date = DateField("To", validators=[Optional()])
    grade = StringField("Grade (3x5x2, e.g. 1A)", validators=[Optional(), Length(max=2)])
    provenance_type = SelectField(
        "Asserted by",
        choices=[
            ("", "— analyst —"),
            ("case", "case"),
            ("report", "intelligence report"),
            ("declaration", "declaration"),
            ("article", "news article"),
        ],
        default="",
    )
    provenance_id = IntegerField(
        "Record (type its reference or words, pick one)",
        widget=TextInput(),
        validators=[Optional()],
    )
    handling_code = SelectField("Handling code", choices=HANDLING_CHOICES, default="P")


class LinkEditForm(FlaskForm):
    """Correct or end a link: the reading before is kept as a version."""

    link_type = SelectField("Relation", choices=list(LINK_TYPES.items()))
    start_date = DateField("From", validators=[Optional()])
    end_date = DateField("To (ends the link)", validators=[Optional()])
    grade = StringField("Grade", validators=[Optional(), Length(max=2)])
    reason = TextAreaField("Why", validators=[DataRequired(), Length(max=2000)])
    action = SelectField(
        choices=[("save", "save"), ("end", "end")], default="save", validate_choice=True
    )


class ReportForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Intelligence", validators=[DataRequired()])
    source_grade = SelectField("Source evaluation", choices=list(SOURCE_GRADES.items()))
    intel_grade = SelectField("Intelligence assessment", choices=list(INTEL_GRADES.items()))
    handling_code = SelectField("Handling code", choices=HANDLING_CHOICES, default="C")
    handling_conditions = TextAreaField("Handling conditions", validators=[Optional()])
    sanitised_body = TextAreaField(
        "Sanitised version (for wider dissemination)", validators=[Optional()]
    )
    review_date = DateField("Review by", validators=[Optional()])
    entity_ids = StringField(
        "Entities mentioned (type a name, pick each)", validators=[Optional(), Length(max=2000)]
    )


class ReportEditForm(FlaskForm):
    """Edit a filed report: the text before is kept as a version."""

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Intelligence", validators=[DataRequired()])
    source_grade = SelectField("Source evaluation", choices=list(SOURCE_GRADES.items()))
    intel_grade = SelectField("Intelligence assessment", choices=list(INTEL_GRADES.items()))
    sanitised_body = TextAreaField("Sanitised version", validators=[Optional()])
    reason = TextAreaField("Why it changes", validators=[DataRequired(), Length(max=2000)])


class DisseminateForm(FlaskForm):
    recipient = StringField(
        "Recipient (unit, agency or person)", validators=[Optional(), Length(max=200)]
    )
    purpose = TextAreaField("Purpose / justification", validators=[DataRequired()])
    version = SelectField("Version", choices=[("sanitised", "sanitised"), ("full", "full")])
    #: a unit of this system: the dissemination shares the report with it (full version)
    unit = SelectField(
        "Unit of this system (shares the full report)",
        choices=[("", "—")],
        default="",
        validate_choice=False,  # checked by the service (an id, an active unit)
    )
    until = DateField("Share ends after (UTC, end of that day)", validators=[Optional()])


class ReviewForm(FlaskForm):
    outcome = SelectField(
        "Outcome", choices=[("retain", "retain (set next review date)"), ("dispose", "dispose")]
    )
    next_review = DateField("Next review", validators=[Optional()])


class DecisionForm(FlaskForm):
    entity_a = HiddenField(validators=[DataRequired()])
    entity_b = HiddenField(validators=[DataRequired()])
    judgement = SelectField(
        "Judgement",
        choices=[("merge", "merge (the same)"), ("not_same", "not the same"), ("unsure", "unsure")],
    )
    survivor = HiddenField()


class ConfirmForm(FlaskForm):
    """A bare form: CSRF token only (undo, delete ...)."""


class ImportForm(FlaskForm):
    kind = SelectField("Rows are", choices=[("entities", "entities"), ("links", "links")])
    file = FileField("CSV file (UTF-8, header row)", validators=[FileRequired()])
    mapping = TextAreaField(
        "Mapping (import specification)",
        validators=[Optional()],
        description="One per line as field: CSV column, e.g. name: Company Name, "
        "identifiers.eori: EORI, type: Kind. Empty: columns named like the fields.",
    )
    entity_type = SelectField("Default entity type", choices=list(ENTITY_TYPES.items()))
    handling_code = SelectField("Handling code", choices=HANDLING_CHOICES, default="P")


class SaveChartForm(FlaskForm):
    case_id = IntegerField("Case (pick it)", widget=TextInput(), validators=[DataRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
