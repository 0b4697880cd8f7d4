"""The offence decision: the evaded-duty threshold decides offence decision or criminal report.

A decision is a series of versions (``CaseDecision``), never overwritten: the first one, a
re-run of the threshold rule each time the evaded duties change afterwards, and corrections
by a supervisor with a reason. The case's own columns hold the newest version (lists and
statistics read them)."""

from decimal import Decimal

from flask import current_app

from app.cases import fields
from app.cases.models import Case, CaseDecision
from app.cases.service import (
    _case_for_edit,
    _request_index,
    _require_open,
    journal,
)
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.access import Actor, get_for

CORRECT_PERMISSION = "case.decision.correct"
LABELS = {"criminal_report": "Criminal report", "offence_decision": "Offence decision"}

# --- offence decision --------------------------------------------------------------------


def evaded_duty_threshold() -> Decimal:
    return Decimal(str(current_app.config.get("TOLLGATE_EVADED_DUTY_THRESHOLD", 5000)))


def _parse(evaded_duties, legal_provision, decision_text, penalty) -> dict:
    errors, parsed = {}, {}
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
    return parsed


def _rule(evaded: Decimal, penalty, threshold: Decimal, *, field="penalty") -> str:
    over = evaded > threshold
    if over and penalty:
        raise ValidationError(
            {
                field: "above the threshold a criminal report is filed; the penalty is for "
                "the court to set"
            }
        )
    return "criminal_report" if over else "offence_decision"


def _record(case: Case, actor: Actor, values: dict, *, origin: str, reason=None) -> CaseDecision:
    """Apply ``values`` (evaded_duties, penalty, legal_provision, decision_text) as the next
    version, under the threshold in force now."""
    threshold = evaded_duty_threshold()
    kind = _rule(values["evaded_duties"], values["penalty"], threshold)
    version = CaseDecision(
        case=case,
        version=len(case.decisions) + 1,
        origin=origin,
        reason=reason,
        decision_type=kind,
        threshold=threshold,
        decided_by_id=actor.user_id,
        decided_by_name=actor.username,
        decided_dt=now_utc(),
        **values,
    )
    db.session.add(version)
    for name, value in values.items():
        setattr(case, name, value)
    case.decision_type = kind
    case.decision_threshold = threshold
    case.decided_by_id = actor.user_id
    case.decided_by_name = actor.username
    case.decided_dt = version.decided_dt
    return version


def _describe(version: CaseDecision) -> str:
    over = version.decision_type == "criminal_report"
    return (
        f"{LABELS[version.decision_type]} (version {version.version}): evaded duties "
        f"{version.evaded_duties} EUR ({'above' if over else 'not above'} the threshold of "
        f"{version.threshold} EUR), {version.legal_provision}."
    )


def decide_offence(
    case_id, *, actor: Actor, evaded_duties, legal_provision, decision_text, penalty=None
) -> Case:
    """Record the offence decision. Evaded duties above the configured threshold make the
    case a criminal report instead of an offence decision (with who decided, and when).
    A case already decided is corrected (``correct_decision``), not decided again."""
    actor.require("case.decide")
    case = _case_for_edit(case_id, actor)
    if case.kind not in ("offence", "seizure"):
        raise ValidationError({"kind": "only offence and seizure cases take an offence decision"})
    _require_open(case)
    if case.decisions:
        raise ValidationError(
            {"decision": "the case is already decided; a supervisor corrects it, with a reason"}
        )
    parsed = _parse(evaded_duties, legal_provision, decision_text, penalty)
    version = _record(case, actor, parsed, origin="decision")
    if case.status != "decision":
        case.status = "decision"
    journal(case, actor, "decision", _describe(version))
    _request_index(case)
    db.session.flush()
    return case


def rerun_threshold(case: Case, actor: Actor, changed: dict) -> CaseDecision | None:
    """After an edit of a decided case's evaded duties (or penalty): the rule runs again and
    the outcome is a new version. ``changed``: name -> old value. Above the threshold a
    penalty no longer stands (the court sets it): it is withdrawn, and the journal says so."""
    if not case.decisions or not ({"evaded_duties", "penalty"} & set(changed)):
        return None
    if case.evaded_duties is None:
        raise ValidationError(
            {"evaded_duties": "a decided case keeps its evaded duties; correct the decision"}
        )
    values = {
        "evaded_duties": case.evaded_duties,
        "penalty": case.penalty,
        "legal_provision": case.legal_provision,
        "decision_text": case.decision_text,
    }
    note = ""
    if case.evaded_duties > evaded_duty_threshold() and case.penalty:
        if "penalty" in changed and "evaded_duties" not in changed:
            _rule(case.evaded_duties, case.penalty, evaded_duty_threshold())  # raises
        note = f" Penalty of {case.penalty} EUR withdrawn: the court sets it."
        values["penalty"] = None
    before = case.decision_type
    reason = "; ".join(
        f"{name} changed from {old} to {getattr(case, name)}" for name, old in changed.items()
    )
    version = _record(case, actor, values, origin="threshold", reason=reason)
    turned = (
        f" The decision is now a {LABELS[version.decision_type].lower()}."
        if version.decision_type != before
        else ""
    )
    journal(
        case,
        actor,
        "decision",
        f"Threshold rule re-run ({reason}): {_describe(version)}{turned}{note}",
    )
    return version


def correct_decision(
    case_id, *, actor: Actor, reason, evaded_duties, legal_provision, decision_text, penalty=None
) -> Case:
    """A supervisor's correction of the decision: a new version with the reason, the rule
    applied again, the correction trailed with its reason."""
    actor.require(CORRECT_PERMISSION)
    case = get_for(actor, Case, case_id, permission="case.edit", action="update", log=False)
    if not case.decisions:
        raise ValidationError({"decision": "the case has no decision to correct"})
    _require_open(case)
    errors = {}
    try:
        reason = fields.text(reason, "reason", max_len=2000, required=True)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        parsed = _parse(evaded_duties, legal_provision, decision_text, penalty)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    version = _record(case, actor, parsed, origin="correction", reason=reason)
    journal(case, actor, "decision", f"Decision corrected ({reason}): {_describe(version)}")
    db.session.flush()
    trail.record(
        actor,
        "update",
        "case",
        case.id,
        details={"decision_version": version.version, "correction": reason},
    )
    _request_index(case)
    return case
