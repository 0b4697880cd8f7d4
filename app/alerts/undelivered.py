"""Notifications that gave up, shown to the people who have to know: the recipient (the
e-mails meant for them, on the inbox) and the unit's supervisor (every e-mail and webhook of
the unit, on the supervision page).

Only the channel, the addressee, the attempts and the reason are listed, never the alert's
title: the supervisor sees the unit's figures, not alerts they may not open.
"""

from datetime import timedelta

from sqlalchemy import or_, select

from app.alerts.models import Delivery, Webhook
from app.core.time import now_utc
from app.extensions import db
from app.security.access import Actor
from app.security.models import User

#: how far back a failure is still shown
SHOWN_DAYS = 7


def _rows(where, since, limit) -> list[dict]:
    rows = db.session.execute(
        select(Delivery, User.full_name, Webhook.name)
        .outerjoin(User, User.id == Delivery.user_id)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .where(where, Delivery.status == "failed", Delivery.created_dt >= since)
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": d.id,
            "channel": d.channel,
            "kind": d.kind,
            "alert_id": d.alert_id,
            "to": user or hook or "",
            "attempts": d.attempts,
            "reason": d.last_error or "",
            "queued": d.created_dt,
        }
        for d, user, hook in rows
    ]


def failed_for_recipient(actor: Actor, *, days: int = SHOWN_DAYS, limit: int = 20) -> list[dict]:
    """The actor's own alert e-mails that failed for good in the last ``days``."""
    actor.require("alert.view")
    if actor.user_id is None:
        return []
    since = now_utc() - timedelta(days=days)
    return _rows(Delivery.user_id == actor.user_id, since, limit)


def failed_for_unit(actor: Actor, *, days: int = SHOWN_DAYS, limit: int = 50) -> list[dict]:
    """E-mails to the unit's members and posts to its webhooks that failed for good."""
    actor.require("alert.supervise")
    since = now_utc() - timedelta(days=days)
    members = select(User.id).where(User.unit_id == actor.unit_id)
    hooks = select(Webhook.id).where(Webhook.unit_id == actor.unit_id)
    return _rows(or_(Delivery.user_id.in_(members), Delivery.webhook_id.in_(hooks)), since, limit)
