"""Forms of the case domain (Flask-WTF: CSRF on every form). Values are validated by the
services, which name the field at fault; the forms only shape the input."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.cases import catalog, seizures


def Select(label, **kw):  # noqa: N802 - used like a field class
    """A select whose value the service validates (and names the field when it is wrong)."""
    kw.setdefault("validate_choice", False)
    return SelectField(label, **kw)


def _opts(mapping, blank="—"):
    return [("", blank), *mapping.items()]


HANDLING = [
    ("P", "P — lawful sharing permitted"),
    ("C", "C — sharing with conditions (own unit and named shares only)"),
]
PRIORITY = [(str(k), v) for k, v in catalog.PRIORITIES.items()]


class ItemSubForm(Form):
    """One seizure item row (no CSRF of its own: it lives inside a FlaskForm)."""

    commodity_area = Select("Commodity area", choices=_opts(catalog.COMMODITY_AREAS))
    hs_code = StringField("HS code", validators=[Length(max=14)])
    description = StringField("Description", validators=[Length(max=500)])
    quantity = StringField("Quantity", validators=[Length(max=30)])
    quantity_unit = Select("Unit", choices=_opts(catalog.QUANTITY_UNITS))
    value = StringField("Value (EUR)", validators=[Length(max=30)])

    def as_dict(self) -> dict | None:
        """The item, or None when the row was left empty."""
        data = {k: (v or "").strip() for k, v in self.data.items()}
        return data if any(data.values()) else None


class PartySubForm(Form):
    """A party: picked from the registry (entity_id) or created here (type and name)."""

    role = Select("Role", choices=_opts(catalog.PARTY_ROLES))
    entity_id = HiddenField()
    lookup = StringField("Find in the registry", validators=[Length(max=200)])
    new_type = Select("Or create: type", choices=[])
    new_name = StringField("Name / plate / number", validators=[Length(max=300)])
    new_identifier = StringField("Identifier (scheme:value)", validators=[Length(max=120)])

    def as_dict(self) -> dict | None:
        d = {k: (v or "").strip() for k, v in self.data.items()}
        if not (d["entity_id"] or d["new_name"]):
            return None
        return d


def entity_type_choices():
    from app.intel.entity_types import ENTITY_TYPES

    return _opts(ENTITY_TYPES)


class _CaseFields(FlaskForm):
    title = StringField("Title", validators=[Length(max=300)])
    summary = TextAreaField("Summary", validators=[Length(max=20000)])
    priority = Select("Priority", choices=PRIORITY, default="2")
    handling_code = Select("Handling code", choices=HANDLING, default="P")
    handling_conditions = StringField("Handling conditions", validators=[Length(max=2000)])
    event_dt = StringField("Date and time (UTC)", render_kw={"type": "datetime-local"})
    place_type = Select("Place type", choices=_opts(catalog.PLACE_TYPES))
    place = StringField("Office or border crossing point", validators=[Length(max=120)])
    direction = Select("Direction", choices=_opts(catalog.DIRECTIONS))
    transport_mode = Select("Transport mode", choices=_opts(catalog.TRANSPORT_MODES))
    conveyance = StringField("Conveyance (plate, vessel, flight)", validators=[Length(max=200)])
    route_origin = StringField("Route: origin", validators=[Length(max=80)])
    route_transit = StringField("Route: transit", validators=[Length(max=200)])
    route_destination = StringField("Route: destination", validators=[Length(max=80)])
    detection_method = Select("Detection method", choices=_opts(catalog.DETECTION_METHODS))
    concealment_method = Select("Concealment method", choices=_opts(catalog.CONCEALMENT_METHODS))
    declaration_number = StringField("Declaration number", validators=[Length(max=60)])


class SeizureForm(_CaseFields):
    place_ref = Select("Office or border crossing point", choices=[])
    template = Select(
        "Template", choices=[(k, t["label"]) for k, t in catalog.templates_for("seizure").items()]
    )
    items = FieldList(FormField(ItemSubForm), min_entries=3, max_entries=200)
    parties = FieldList(FormField(PartySubForm), min_entries=2, max_entries=50)
    evidence = MultipleFileField("Photos and documents (PNG, JPEG, PDF …)")
    evidence_description = StringField("Description of the files", validators=[Length(max=500)])


CASE_FIELDS_BY_KIND = {
    "seizure": seizures.RECORD_FIELDS,
    "offence": (
        "event_dt",
        "place",
        "transport_mode",
        "conveyance",
        "declaration_number",
        "legal_provision",
        "evaded_duties",
        "penalty",
    ),
    "audit": (
        "audit_type",
        "risk_areas",
        "period_start",
        "period_end",
        "audit_plan",
        "findings",
        "assessed_debt",
        "referral",
    ),
    "investigation": ("event_dt", "place"),
}
COMMON_FIELDS = ("title", "summary", "priority", "handling_code", "handling_conditions")


class CaseForm(_CaseFields):
    """New offence/audit/investigation case, and editing any case."""

    template = Select("Template", choices=[])
    place_ref = Select("Office or border crossing point", choices=[])
    legal_provision = StringField("Legal provision", validators=[Length(max=300)])
    evaded_duties = StringField("Evaded duties (EUR)", validators=[Length(max=30)])
    penalty = StringField("Penalty (EUR)", validators=[Length(max=30)])
    audit_type = Select("Audit type", choices=_opts(catalog.AUDIT_TYPES))
    risk_areas = SelectMultipleField("Risk areas", choices=list(catalog.RISK_AREAS.items()))
    period_start = StringField("Audited period: from", render_kw={"type": "date"})
    period_end = StringField("Audited period: to", render_kw={"type": "date"})
    audit_plan = TextAreaField("Audit plan", validators=[Length(max=20000)])
    findings = TextAreaField("Findings", validators=[Length(max=20000)])
    assessed_debt = StringField("Assessed debt (EUR)", validators=[Length(max=30)])
    referral = StringField("Referral", validators=[Length(max=300)])
    trader_entity_id = HiddenField()
    trader_lookup = StringField("Audited trader (find in the registry)")


class StatusForm(FlaskForm):
    status = Select("New status", choices=list(catalog.STATUSES.items()))
    resolution = Select("Resolution (when closing)", choices=[])
    note = StringField("Note", validators=[Length(max=5000)])


class AssignForm(FlaskForm):
    assignee_id = Select("Assignee", choices=[])


class JournalForm(FlaskForm):
    text = TextAreaField("Journal entry", validators=[DataRequired(), Length(max=20000)])


class TaskForm(FlaskForm):
    title = StringField("Task", validators=[Length(max=300)])
    assignee_id = Select("Assignee", choices=[])
    due_date = StringField("Due", render_kw={"type": "date"})


class TaskStatusForm(FlaskForm):
    status = HiddenField(default="done")


class ItemForm(FlaskForm):
    item = FormField(ItemSubForm)


class PartyForm(FlaskForm):
    party = FormField(PartySubForm)


class EvidenceForm(FlaskForm):
    file = FileField("File (photo or PDF)")
    description = StringField("Description", validators=[Length(max=500)])


class LinkForm(FlaskForm):
    target_type = Select("Link to", choices=list(catalog.LINK_TYPES.items()))
    target_id = StringField("Number, id or case reference", validators=[Length(max=64)])
    note = StringField("Note", validators=[Length(max=500)])


class MergeForm(FlaskForm):
    duplicate = StringField("Reference of the duplicate case", validators=[Length(max=40)])
    note = StringField("Note", validators=[Length(max=2000)])
    confirm = BooleanField("I checked that it is the same matter; merge it into this case")


class DecisionForm(FlaskForm):
    evaded_duties = StringField("Evaded duties (EUR)", validators=[Length(max=30)])
    legal_provision = StringField("Legal provision", validators=[Length(max=300)])
    penalty = StringField("Penalty (EUR, offence decisions only)", validators=[Length(max=30)])
    decision_text = TextAreaField("Decision", validators=[Length(max=20000)])


class CorrectDecisionForm(DecisionForm):
    reason = StringField("Reason for the correction", validators=[Length(max=2000)])


class PrintForm(FlaskForm):
    """Printing a case file or a referral: the reason goes into the access trail."""

    justification = TextAreaField(
        "Why you print it (recorded in the access trail)",
        validators=[DataRequired(), Length(max=1000)],
    )


class ChecklistForm(FlaskForm):
    """The ticked boxes arrive as the repeated field ``done`` (positions)."""


class ExportForm(FlaskForm):
    justification = TextAreaField(
        "Justification (recorded in the access trail)",
        validators=[DataRequired(), Length(max=1000)],
    )


class ImportUploadForm(FlaskForm):
    file = FileField("CSV file (UTF-8, comma or semicolon separated)")


class ImportRunForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    skip_duplicates = BooleanField("Skip rows already imported (otherwise they are errors)")
    dry_run = BooleanField("Dry run: check every row, import nothing", default=True)
    handling_code = Select("Handling code of the imported cases", choices=HANDLING)
    place_type = Select(
        "Place type when the file has none",
        choices=_opts(catalog.PLACE_TYPES),
        validators=[Optional()],
    )
