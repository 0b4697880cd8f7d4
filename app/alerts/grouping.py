"""Alerts grouped by what fired (a profile, a watch ...) or by what they are about, with
counts (issue 19 item 9): the reader's own alerts only, as the inbox lists them, and each
group's label rendered for the reader through the seam (``app.alerts.text``)."""

from sqlalchemy import func, select

from app.alerts import service
from app.alerts.models import Alert
from app.alerts.subjects import can_open
from app.alerts.text import alert_text
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor

GROUPINGS = {"source": "What fired (profile, watch ...)", "subject": "What it is about"}
MAX_GROUPS = 200


def groups(actor: Actor, by: str, **filters) -> list[dict]:
    """``[{"kind", "id", "label", "alerts", "new"}]``, largest first, over the alerts the
    inbox would list with ``filters`` (status, severity, source_kind)."""
    if by not in GROUPINGS:
        raise ValidationError({"group": f"must be one of {', '.join(GROUPINGS)}"})
    base = service.inbox_query(actor, **filters).order_by(None)
    if by == "source":
        cols = (Alert.source_kind, Alert.source_id)
    else:
        cols = (Alert.subject_type, Alert.subject_id)
    count = func.count(Alert.id)
    rows = db.session.execute(
        base.with_only_columns(
            *cols, count, func.count(Alert.id).filter(Alert.status == "new"), func.max(Alert.id)
        )
        .group_by(*cols)
        .order_by(count.desc(), func.max(Alert.id).desc())
        .limit(MAX_GROUPS)
    ).all()
    ids = [r[4] for r in rows]
    latest = {a.id: a for a in db.session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    out = []
    for kind, key, n, new, last in rows:
        if by == "subject" and not can_open(
            actor, kind, key, check_permission=actor.user_id is not None
        ):
            continue  # need-to-know: a subject the reader may no longer open is not named
        text = alert_text(actor, latest[last])
        out.append(
            {
                "kind": kind,
                "id": key,
                "label": text.source if by == "source" else text.subject,
                "alerts": n,
                "new": new,
            }
        )
    return out
