"""The offence decision: the evaded-duty threshold decides offence decision or criminal report."""

from decimal import Decimal

from flask import current_app

from app.cases import fields
from app.cases.models import Case
from app.cases.service import (
    _case_for_edit,
    _request_index,
    _require_open,
    journal,
)
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security.access import Actor

# --- offence decision --------------------------------------------------------------------


def evaded_duty_threshold() -> Decimal:
    return Decimal(str(current_app.config.get("TOLLGATE_EVADED_DUTY_THRESHOLD", 5000)))


def decide_offence(
    case_id, *, actor: Actor, evaded_duties, legal_provision, decision_text, penalty=None
) -> Case:
    """Record the offence decision. Evaded duties above the configured threshold make the
    case a criminal report instead of an offence decision (with who decided, and when)."""
    actor.require("case.decide")
    case = _case_for_edit(case_id, actor)
    if case.kind not in ("offence", "seizure"):
        raise ValidationError({"kind": "only offence and seizure cases take an offence decision"})
    _require_open(case)
    errors = {}
    parsed = {}
    for name, value, parser in (
        ("evaded_duties", evaded_duties, lambda v, n: fields.decimal(v, n, required=True)),
        (
            "legal_provision",
            legal_provision,
            lambda v, n: fields.text(v, n, max_len=300, required=True),
        ),
        (
            "decision_text",
            decision_text,
            lambda v, n: fields.text(v, n, max_len=20000, required=True),
        ),
        ("penalty", penalty, lambda v, n: fields.decimal(v, n)),
    ):
        try:
            parsed[name] = parser(value, name)
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    threshold = evaded_duty_threshold()
    over = parsed["evaded_duties"] > threshold
    if over and parsed["penalty"]:
        raise ValidationError(
            {
                "penalty": "above the threshold a criminal report is filed; the "
                "penalty is for the court to set"
            }
        )
    for name, value in parsed.items():
        setattr(case, name, value)
    case.decision_type = "criminal_report" if over else "offence_decision"
    case.decision_threshold = threshold
    case.decided_by_id = actor.user_id
    case.decided_by_name = actor.username
    case.decided_dt = now_utc()
    if case.status != "decision":
        case.status = "decision"
    label = "Criminal report" if over else "Offence decision"
    journal(
        case,
        actor,
        "decision",
        f"{label}: evaded duties {parsed['evaded_duties']} EUR "
        f"({'above' if over else 'not above'} the threshold of {threshold} EUR), "
        f"{parsed['legal_provision']}.",
    )
    _request_index(case)
    db.session.flush()
    return case
