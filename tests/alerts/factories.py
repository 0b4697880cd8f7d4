"""Factories for alerts tests."""

from app.alerts import routing
from app.alerts.models import Webhook
from app.extensions import db


def raise_specimen_alert(record, recipients, *, severity="high", source_id=1, title=None, **kw):
    return routing.raise_alert(
        source_kind="profile",
        source_id=source_id,
        source_label=f"RP-{source_id} test profile",
        subject_type="specimen",
        subject_id=record.id,
        subject_label=f"SPEC-{record.id}",
        title=title or f"Profile {source_id} fired on SPEC-{record.id}",
        reasons=["importer is on the watch list", "origin = XX"],
        instructions="Hold the consignment and call the duty officer.",
        severity=severity,
        recipients=recipients,
        **kw,
    )


def webhook(unit, url, secret, min_severity="low"):
    hook = Webhook(
        name="ops room", url=url, secret=secret, unit_id=unit.id, min_severity=min_severity
    )
    db.session.add(hook)
    db.session.flush()
    return hook
