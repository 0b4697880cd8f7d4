"""An alert's texts as one recipient may read them.

Every text of an alert that names a record (title, source and subject labels, reasons) is
stored as a phrase (``app.security.seams``) and rendered here, per recipient, by the one
seam function ``seams.render``: the inbox, the alert page, the API, e-mail, webhooks,
digests and escalations all read an alert's text through ``alert_text``.
"""

from dataclasses import dataclass

from app.security import seams
from app.security.access import Actor


@dataclass(frozen=True)
class AlertText:
    title: str
    source: str
    subject: str
    reasons: list[str]


def phrases(*, title, source_label, subject_label, reasons) -> dict:
    """The stored phrase document of an alert (each value a string or a phrase)."""
    return {
        "title": seams.phrase(title),
        "source": seams.phrase(source_label),
        "subject": seams.phrase(subject_label),
        "reasons": [seams.phrase(r) for r in reasons],
    }


def stored(doc: dict) -> AlertText:
    """The texts safe to store: every handling-code-C record described, never named."""
    return alert_text(None, None, doc)


def alert_text(recipient: Actor | None, alert, doc: dict | None = None) -> AlertText:
    """``alert``'s texts for ``recipient`` (a user's or a client's Actor, or
    ``seams.unit_recipient(unit_id)`` for a unit's webhook)."""
    doc = doc if doc is not None else alert.text
    if not doc:  # an alert raised before texts were phrases: its stored (plain) texts
        return AlertText(
            alert.title, alert.source_label, alert.subject_label, list(alert.reasons or [])
        )
    return AlertText(
        title=seams.render(recipient, doc.get("title")),
        source=seams.render(recipient, doc.get("source")),
        subject=seams.render(recipient, doc.get("subject")),
        reasons=[seams.render(recipient, r) for r in doc.get("reasons") or []],
    )
