from flask import current_app

from app.alerts.models import Alert, AlertRecipient, SavedSearch, Watch, Webhook
from app.alerts.subjects import register_subject
from app.core.time import now_utc
from app.security.access import can_see
from tests.access.spec import Route


class _Specimen:
    """The alert's subject: a restricted record of unit A (code C)."""

    __record_type__ = "access_specimen"

    def __init__(self, unit_id):
        self.id, self.unit_id, self.handling_code = 1, unit_id, "C"


def build(world):
    specimen = _Specimen(world.unit_a.id)
    # Every role of unit A may open the subject; the outsider may not (code C, other unit).
    register_subject(
        current_app,
        "access_specimen",
        "alert.view",
        can_open=lambda actor, rid: rid == 1 and can_see(actor, specimen),
    )
    now = now_utc()
    alert = Alert(
        fold_key="access",
        source_kind="profile",
        source_id=1,
        source_label="RP-1",
        subject_type="access_specimen",
        subject_id=1,
        subject_label=world.SENTINEL,
        title=f"Alert about {world.SENTINEL}",
        reasons=[world.SENTINEL],
        severity="high",
        deadline_dt=now,
    )
    alert.recipients = [AlertRecipient(user_id=u.id, via="unit") for u in world.users.values()]
    from app.extensions import db

    db.session.add(alert)
    client, _ = world.make.api_client(["alerts:write"], unit=world.unit_a)
    owner = world.users["intelligence_officer"]
    world.watch = Watch(
        kind="term",
        term="sentinel",
        label=world.SENTINEL,
        owner_id=owner.id,
        unit_id=world.unit_a.id,
        recipients={},
    )
    world.api_watch = Watch(
        kind="term",
        term="api term",
        label=world.SENTINEL,
        client_id=client.id,
        unit_id=world.unit_a.id,
        recipients={"units": [world.unit_a.id]},
    )
    world.search = SavedSearch(
        name=world.SENTINEL, query="x", owner_id=owner.id, unit_id=world.unit_a.id
    )
    world.api_search = SavedSearch(
        name=world.SENTINEL,
        query="x",
        client_id=client.id,
        unit_id=world.unit_a.id,
        recipients={"units": [world.unit_a.id]},
    )
    world.webhook = Webhook(
        name=world.SENTINEL, url="http://127.0.0.1:9/", secret="s" * 20, unit_id=world.unit_a.id
    )
    db.session.add_all(
        [world.watch, world.api_watch, world.search, world.api_search, world.webhook]
    )
    db.session.flush()
    world.alert = alert


def _alert(w):
    return {"alert_id": w.alert.id}


ROUTES = [
    Route("alerts.inbox", perm="alert.view"),
    Route("alerts.detail", perm="alert.view", args=_alert, restricted=True),
    Route(
        "alerts.acknowledge",
        perm="alert.view",
        args=_alert,
        restricted=True,
        body=lambda w: {"note": "seen"},
    ),
    Route(
        "alerts.action",
        perm="alert.view",
        args=_alert,
        restricted=True,
        body=lambda w: {"note": "inspected"},
    ),
    Route(
        "alerts.close",
        perm="alert.view",
        args=_alert,
        restricted=True,
        body=lambda w: {"note": "done"},
    ),
    Route(
        "alerts.assign",
        perm="alert.supervise",
        args=_alert,
        restricted=True,
        body=lambda w: {"user_id": str(w.users["enforcement_officer"].id), "note": "yours"},
    ),
    Route(
        "alerts.escalate",
        perm="alert.view",
        args=_alert,
        restricted=True,
        body=lambda w: {"reason": "above me"},
    ),
    Route(
        "alerts.feedback",
        perm="alert.view",
        args=_alert,
        restricted=True,
        body=lambda w: {"useful": "yes"},
    ),
    Route(
        "alerts.create_case",
        perm="case.create",
        args=_alert,
        restricted=True,
        body=lambda w: {"kind": "seizure", "title": ""},
    ),
    Route(
        "alerts.attach_case",
        perm="case.edit",
        args=_alert,
        restricted=True,
        body=lambda w: {"case": ""},
    ),
    Route("alerts.bulk_acknowledge", perm="alert.view", body=lambda w: {"alert_ids": [w.alert.id]}),
    Route("alerts.state", perm="alert.view"),
    Route("alerts.supervise", perm="alert.supervise"),
    Route("alerts.figure_alerts", perm="alert.supervise"),
    Route(
        "alerts.export_figures",
        perm="alert.supervise",
        body=lambda w: {"justification": "monthly figures"},
    ),
    Route("alerts.watches", perm="alert.view"),
    Route("alerts.watch_entity", perm="alert.manage", body=lambda w: {"entity_id": "x"}),
    Route("alerts.watch_term", perm="alert.manage", body=lambda w: {"term": "tobacco"}),
    Route(
        "alerts.save_search", perm="alert.manage", body=lambda w: {"name": "n", "query": "cocaine"}
    ),
    Route("alerts.remove_watch", perm="alert.manage", args=lambda w: {"watch_id": w.watch.id}),
    Route("alerts.remove_search", perm="alert.manage", args=lambda w: {"search_id": w.search.id}),
    Route(
        "alerts.settings",
        perm="alert.view",
        body=lambda w: {"email_mode": "daily", "min_severity": "low"},
    ),
    Route(
        "alerts.add_webhook",
        perm="alert.supervise",
        body=lambda w: {"name": "ops", "url": "http://127.0.0.1:9/", "min_severity": "high"},
    ),
    Route(
        "alerts.remove_webhook", perm="alert.supervise", args=lambda w: {"webhook_id": w.webhook.id}
    ),
    Route("alerts_api.list_alerts", scope="alerts:read"),
    Route("alerts_api.get_alert", scope="alerts:read", restricted=True, args=_alert),
    Route("alerts_api.acknowledge_alert", scope="alerts:write", restricted=True, args=_alert),
    Route("alerts_api.close_alert", scope="alerts:write", restricted=True, args=_alert),
    Route(
        "alerts_api.assign_alert",
        scope="alerts:write",
        restricted=True,
        args=_alert,
        body=lambda w: {"user_id": w.users["enforcement_officer"].id},
    ),
    Route(
        "alerts_api.escalate_alert",
        scope="alerts:write",
        restricted=True,
        args=_alert,
        body=lambda w: {"reason": "above us"},
    ),
    Route("alerts_api.list_watches", scope="alerts:read"),
    Route(
        "alerts_api.create_watch",
        scope="alerts:write",
        body=lambda w: {"kind": "term", "term": "heroin", "recipients": {"units": [w.unit_a.id]}},
    ),
    Route(
        "alerts_api.delete_watch",
        scope="alerts:write",
        restricted=True,
        args=lambda w: {"watch_id": w.api_watch.id},
    ),
    Route("alerts_api.list_saved_searches", scope="alerts:read"),
    Route(
        "alerts_api.create_saved_search",
        scope="alerts:write",
        body=lambda w: {"name": "n", "query": "cocaine", "recipients": {"units": [w.unit_a.id]}},
        extra={"scopes": ["search:read"]},  # it runs as the client: it must be able to search
    ),
    Route(
        "alerts_api.delete_saved_search",
        scope="alerts:write",
        restricted=True,
        args=lambda w: {"search_id": w.api_search.id},
    ),
]
