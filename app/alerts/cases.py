"""From alert to case (TheHive style): open a case from an alert or attach it to one,
through the record actions the cases domain registers (``app.core.records``: its
need-to-know and validation apply). Alerts import nothing of cases: cases import intel,
intel imports alerts (watches), so a direct import would close a cycle."""

from app.alerts import service
from app.alerts.subjects import model_for
from app.alerts.text import alert_text
from app.core.errors import ValidationError
from app.core.records import create_record, find_record, link_record, note_on_record
from app.extensions import db
from app.security.access import Actor


def _summary(actor: Actor, alert) -> str:
    """The alert's texts as the person opening the case reads them (the seam)."""
    text = alert_text(actor, alert)
    lines = [f"Opened from alert {alert.id}: {text.title}", ""]
    lines += [f"- {r}" for r in text.reasons]
    if alert.instructions:
        lines += ["", "Instructions:", alert.instructions]
    return "\n".join(lines)


def create_case_from_alert(actor: Actor, alert_id: int, *, kind: str, title: str):
    """Open a case prefilled from the alert (handling code C when the subject is C)."""
    actor.require("case.create")
    alert = service.get_alert(actor, alert_id, action="update", log=False)
    if alert.case_id is not None:
        raise ValidationError({"case": f"alert {alert.id} is already linked to a case"})
    subject_model = model_for(alert.subject_type)
    subject = db.session.get(subject_model, alert.subject_id) if subject_model else None
    handling = "C" if getattr(subject, "handling_code", "P") == "C" else "P"
    case = create_record(
        "case",
        kind,
        actor=actor,
        title=title,
        handling_code=handling,
        handling_conditions="Opened from a restricted alert" if handling == "C" else None,
        summary=_summary(actor, alert),
        journal_text=f"Case opened from alert {alert.id} ({alert_text(actor, alert).source}).",
    )
    if alert.subject_type in ("declaration", "report", "case") and subject is not None:
        link_record(
            "case",
            case.id,
            alert.subject_type,
            str(subject.id),
            actor=actor,
            note=f"from alert {alert.id}",
        )
    service.link_case(actor, alert.id, case.id, created=True)
    if alert.status == "new":
        service.acknowledge(actor, alert.id, note=f"case {case.reference} opened")
    return case


def attach_to_case(actor: Actor, alert_id: int, case_ref: str):
    """Record the alert in an existing case's journal and link the two."""
    actor.require("case.edit")
    alert = service.get_alert(actor, alert_id, action="update", log=False)
    # A reference of no case and one outside need-to-know answer alike (no existence oracle).
    case = find_record("case", case_ref, actor=actor, field="case", id_allowed=True)
    note_on_record(
        "case", case.id, _summary(actor, alert).replace("Opened from", "Alert"), actor=actor
    )
    service.link_case(actor, alert.id, case.id, created=False)
    return case
