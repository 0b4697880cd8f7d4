"""Issue 15 item 1: an alert's texts are decided per recipient, at delivery.

A watch on a public entity of unit B fires when unit A links it to A's code-C person. The
B watcher may open the link but not the person: no text the B side receives (inbox, alert
page, polled state, API, e-mail, webhook, digest, escalation) carries the person's name,
aliases or identifiers; an A watcher of the same entity reads the name.
"""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import delivery, tasks, watches
from app.alerts.models import Alert, Delivery, Preference
from app.alerts.text import alert_text
from app.core.time import now_utc
from app.security import seams
from app.security.access import Actor
from tests.alerts.conftest import WEBHOOK_SECRET
from tests.alerts.factories import webhook

intel = pytest.importorskip("app.intel.service", reason="needs the intel domain")

SENTINEL = "Zorbakov7Q"  # the code-C person's name
SENTINEL_ALIAS = "Quillfeather9X"
SENTINEL_ID = "PX4417SENT"


class World:
    pass


@pytest.fixture
def world(make, db):
    w = World()
    w.unit_a, w.unit_b = make.unit(code="HQ-INT"), make.unit(code="BCP-N")
    w.officer_a = make.user(roles=["intelligence_officer"], unit=w.unit_a)
    w.watcher_a = make.user(roles=["intelligence_officer"], unit=w.unit_a)
    w.boss_b = make.user(roles=["supervisor"], unit=w.unit_b)
    w.watcher_b = make.user(roles=["intelligence_officer"], unit=w.unit_b)
    w.watcher_b.supervisor_id = w.boss_b.id
    w.digest_b = make.user(roles=["intelligence_officer"], unit=w.unit_b)
    db.session.add(
        Preference(
            user_id=w.digest_b.id,
            email_mode="daily",
            min_severity="low",
            last_digest_dt=now_utc() - timedelta(days=2),
        )
    )
    a, b = Actor.for_user(w.officer_a), Actor.for_user(w.watcher_b)
    w.person = intel.create_entity(
        "person",
        f"Viktor {SENTINEL}",
        actor=a,
        aliases=[SENTINEL_ALIAS],
        attributes={"note": SENTINEL_ID},
        handling_code="C",
        handling_conditions="HQ-INT only",
    )
    w.company = intel.create_entity("organisation", "Harbour Freight Ltd", actor=b)
    db.session.flush()
    watches.watch_entity(
        Actor.for_user(w.watcher_b),
        w.company.id,
        severity="high",
        recipients={"users": [w.digest_b.id]},
    )
    watches.watch_entity(Actor.for_user(w.watcher_a), w.company.id, severity="high")
    db.session.commit()
    return w


def _link(db, w):
    link = intel.add_link(
        w.company.id, w.person.id, "associate_of", actor=Actor.for_user(w.officer_a)
    )
    db.session.commit()
    by_unit = {}
    for alert in db.session.scalars(select(Alert).where(Alert.subject_type == "link")):
        user = alert.recipients[0].user
        by_unit[user.unit_id] = alert
    return link, by_unit[w.unit_a.id], by_unit[w.unit_b.id]


def _absent(text):
    for s in (SENTINEL, SENTINEL_ALIAS, SENTINEL_ID):
        assert s not in text


def test_stored_alert_texts_name_no_restricted_record(db, world):
    _, alert_a, alert_b = _link(db, world)
    for alert in (alert_a, alert_b):
        stored = json.dumps(
            [alert.title, alert.source_label, alert.subject_label, alert.reasons, alert.text]
        )
        _absent(stored)
        assert "a restricted record of HQ-INT" in alert.title
    # Rendered per recipient: the A watcher reads the name, the B watcher does not.
    mine = alert_text(Actor.for_user(world.watcher_a), alert_a)
    assert SENTINEL in mine.title and SENTINEL in mine.subject and SENTINEL in mine.reasons[0]
    theirs = alert_text(Actor.for_user(world.watcher_b), alert_b)
    assert (
        theirs.title == "New link: Harbour Freight Ltd associate of a restricted record of HQ-INT"
    )
    _absent(json.dumps([theirs.title, theirs.source, theirs.subject, theirs.reasons]))


def test_inbox_alert_page_state_and_api_of_the_other_unit(client, make, db, world):
    _, alert_a, alert_b = _link(db, world)
    make.sign_in(client, world.watcher_b)
    inbox = client.get("/alerts/").get_data(as_text=True)
    assert "Harbour Freight Ltd" in inbox and "a restricted record of HQ-INT" in inbox
    _absent(inbox)
    page = client.get(f"/alerts/{alert_b.id}")
    assert page.status_code == 200
    _absent(page.get_data(as_text=True))
    assert "a restricted record of HQ-INT" in page.get_data(as_text=True)
    _absent(client.get("/alerts/state").get_data(as_text=True))
    _absent(client.get("/").get_data(as_text=True))  # the home page's alert panel
    api_client, token = make.api_client(["alerts:read"], unit=world.unit_b)
    listed = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json["items"]
    _absent(listed.get_data(as_text=True))
    # The unit that owns the person reads its name, on the page and over the API.
    make.sign_in(client, world.watcher_a)
    assert SENTINEL in client.get(f"/alerts/{alert_a.id}").get_data(as_text=True)
    assert SENTINEL in client.get("/alerts/").get_data(as_text=True)
    _, token_a = make.api_client(["alerts:read"], unit=world.unit_a)
    got = client.get(f"/api/v1/alerts/{alert_a.id}", headers={"Authorization": f"Bearer {token_a}"})
    assert SENTINEL in got.json["title"] and SENTINEL in got.json["subject"]["label"]


def test_email_and_webhook_of_the_other_unit(db, world, smtp, webhook_receiver):
    webhook(world.unit_a, webhook_receiver.url, WEBHOOK_SECRET)
    webhook(world.unit_b, webhook_receiver.url, WEBHOOK_SECRET)
    db.session.commit()
    _, alert_a, alert_b = _link(db, world)
    delivery.deliver_due()
    [mail_b] = smtp.to(world.watcher_b.email)
    _absent(mail_b["Subject"] + mail_b.get_content())
    assert "a restricted record of HQ-INT" in mail_b["Subject"]
    posted = {r["json"]["alert_id"]: r for r in webhook_receiver.received}
    assert set(posted) == {alert_a.id, alert_b.id}
    _absent(json.dumps(posted[alert_b.id]["json"]))
    assert posted[alert_b.id]["json"]["source"]["label"] == "Harbour Freight Ltd"
    # Unit A's own watcher and webhook read the name.
    [mail_a] = smtp.to(world.watcher_a.email)
    assert SENTINEL in mail_a["Subject"] and SENTINEL in mail_a.get_content()
    assert SENTINEL in posted[alert_a.id]["json"]["title"]


def test_digest_and_escalation_of_the_other_unit(db, world, smtp):
    _, _, alert_b = _link(db, world)
    assert tasks.queue_digests(now=now_utc()) == 1
    tasks.escalate_overdue(now=now_utc() + timedelta(days=1))
    delivery.deliver_due()
    [digest] = smtp.to(world.digest_b.email)
    assert "digest" in digest["Subject"].lower()
    assert "a restricted record of HQ-INT" in digest.get_content()
    _absent(digest.get_content())
    [escalated] = smtp.to(world.boss_b.email)
    assert escalated["Subject"].startswith("[Tollgate HIGH] ESCALATED")
    _absent(escalated["Subject"] + escalated.get_content())


def test_a_share_lets_the_other_unit_read_the_name(db, world):
    """Decided at delivery: the same stored alert reads differently once A shares the
    person with B (and as the restricted description again for anyone else)."""
    from app.security.access import share_record

    _, _, alert_b = _link(db, world)
    reader = Actor.for_user(world.watcher_b)
    assert SENTINEL not in alert_text(reader, alert_b).title
    share_record(world.person, unit_ids=[world.unit_b.id])
    db.session.flush()
    assert SENTINEL in alert_text(reader, alert_b).title
    assert SENTINEL in alert_text(seams.unit_recipient(world.unit_b.id), alert_b).title
    outsider = Actor(user_id=None, username="outsider", unit_id=None)
    assert SENTINEL not in alert_text(outsider, alert_b).title
    assert SENTINEL not in alert_text(None, alert_b).title


def test_text_is_decided_when_sent_not_when_queued(db, world, smtp, webhook_receiver):
    """Queued while the person was code P (so B could read the name), sent after unit A
    raised it to code C: the e-mail and the webhook are rendered at the send."""
    webhook(world.unit_b, webhook_receiver.url, WEBHOOK_SECRET)
    world.person.handling_code = "P"
    db.session.commit()
    _, _, alert_b = _link(db, world)
    assert SENTINEL in alert_text(Actor.for_user(world.watcher_b), alert_b).title
    world.person.handling_code = "C"
    db.session.commit()
    delivery.deliver_due()
    [mail_b] = smtp.to(world.watcher_b.email)
    _absent(mail_b["Subject"] + mail_b.get_content())
    [posted] = [r for r in webhook_receiver.received if r["json"]["alert_id"] == alert_b.id]
    _absent(json.dumps(posted["json"]))
    # The delivery row keeps exactly what was sent.
    db.session.rollback()
    sent = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_b.id)).all()
    assert sent and all(SENTINEL not in d.subject + d.body for d in sent)
