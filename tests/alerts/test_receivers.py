"""Signals from other domains become alerts (driven with the signals and small records)."""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.alerts import watches
from app.alerts.models import Alert, Watch
from app.alerts.subjects import register_subject, unregister_subject
from app.core import signals
from app.security.access import Actor, can_see
from tests.alerts.conftest import Specimen


@pytest.fixture
def fake_subjects(app):
    """Declarations, cases, links and articles as small restricted records of this test."""
    store = {}
    saved = dict(app.extensions.get("tollgate_alert_subjects", {}))
    for record_type, permission in (
        ("declaration", "risk.declaration.view"),
        ("case", "case.view"),
        ("link", "entity.view"),
        ("article", "news.view"),
    ):
        register_subject(
            app,
            record_type,
            permission,
            can_open=lambda actor, rid, t=record_type: (
                (t, rid) in store and can_see(actor, store[(t, rid)])
            ),
        )

    def add(record_type, record_id, unit, code="C"):
        record = Specimen(record_id, unit.id, code)
        record.__record_type__ = record_type
        store[(record_type, record_id)] = record
        return record

    yield add
    for record_type in ("declaration", "case", "link", "article"):
        unregister_subject(app, record_type)
    app.extensions["tollgate_alert_subjects"].update(saved)


def _alerts(db):
    return db.session.scalars(select(Alert).order_by(Alert.id)).all()


def test_sensitive_profile_hit_alerts_the_profiles_recipients(make, db, fake_subjects):
    unit = make.unit()
    sup = make.user(roles=["supervisor"], unit=unit)
    analyst = make.user(roles=["risk_analyst"], unit=unit)
    fake_subjects("declaration", 77, unit)
    declaration = SimpleNamespace(id=77, number="25IM000077")
    profile = SimpleNamespace(
        id=5,
        code="RP-0005",
        name="Cocaine in bananas",
        instructions="Full unload; call K9.",
        alert_severity="critical",
        recipients={"roles": ["supervisor"], "users": [analyst.id]},
    )
    signals.sensitive_profile_hit.send(
        None,
        declaration=declaration,
        profile=profile,
        matched=["hs_code starts with 0803", "origin = EC"],
        actor=Actor.system("engine"),
    )
    [alert] = _alerts(db)
    assert alert.source_kind == "profile" and alert.source_id == 5
    assert alert.source_label == "RP-0005 Cocaine in bananas"
    assert (alert.subject_type, alert.subject_id, alert.subject_label) == (
        "declaration",
        77,
        "25IM000077",
    )
    assert alert.severity == "critical" and alert.instructions == "Full unload; call K9."
    assert alert.reasons == ["hs_code starts with 0803", "origin = EC"]
    assert sorted(r.user_id for r in alert.recipients) == sorted([sup.id, analyst.id])
    # The same profile on the same declaration again: folded.
    signals.sensitive_profile_hit.send(
        None, declaration=declaration, profile=profile, matched=["origin = EC"], actor=None
    )
    assert len(_alerts(db)) == 1 and alert.count == 2


def test_watched_entity_mentioned_alerts_watcher_with_access_only(make, db, fake_subjects):
    unit_a, unit_b = make.unit(), make.unit()
    watcher = make.user(roles=["intelligence_officer"], unit=unit_a)
    far_watcher = make.user(roles=["intelligence_officer"], unit=unit_b)
    fake_subjects("case", 12, unit_a, "C")
    for user in (watcher, far_watcher):
        db.session.add(
            Watch(
                kind="entity",
                entity_id=400,
                label="ACME Trading",
                owner_id=user.id,
                unit_id=user.unit_id,
                recipients={},
            )
        )
    db.session.flush()
    signals.entity_mentioned.send(
        None,
        entity_id=400,
        record_type="case",
        record_id=12,
        role="consignee",
        actor=Actor.system(),
    )
    [alert] = _alerts(db)
    assert [r.user_id for r in alert.recipients] == [watcher.id]
    assert "ACME Trading" in alert.title and "consignee" in alert.reasons[0]
    # Someone else's watch is another source: the far watcher got nothing at all.
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_new_link_of_a_watched_entity(make, db, fake_subjects):
    unit = make.unit()
    watcher = make.user(roles=["intelligence_officer"], unit=unit)
    fake_subjects("link", 3, unit, "P")
    db.session.add(Watch(kind="entity", entity_id=10, label="J. Doe", owner_id=watcher.id))
    db.session.flush()
    link = SimpleNamespace(id=3, source_id=11, target_id=10, link_type="director_of")
    signals.link_created.send(None, link=link, actor=None)
    [alert] = _alerts(db)
    assert alert.subject_type == "link" and "director of" in alert.title


def test_watched_term_in_a_news_article(make, db, fake_subjects):
    unit = make.unit()
    reader = make.user(roles=["intelligence_officer"], unit=unit)
    fake_subjects("article", 8, unit, "P")
    watches.watch_term(make.actor(reader), "Captagon", severity="medium")
    article = SimpleNamespace(id=8, title="Port seizure", text="Police found   CAPTAGON pills.")
    signals.article_stored.send(None, article=article, actor=None)
    quiet = SimpleNamespace(id=9, title="Weather", text="Sunny")
    signals.article_stored.send(None, article=quiet, actor=None)
    [alert] = _alerts(db)
    assert alert.source_kind == "term" and alert.subject_id == 8
    assert "captagon" in alert.title


def test_watched_entity_named_in_a_news_article(make, db, fake_subjects):
    unit = make.unit()
    reader = make.user(roles=["intelligence_officer"], unit=unit)
    fake_subjects("article", 31, unit, "P")
    fake_subjects("article", 32, unit, "P")
    db.session.add(
        Watch(kind="entity", entity_id=5, label="Balkan  Express Ltd", owner_id=reader.id)
    )
    db.session.flush()
    hit = SimpleNamespace(id=31, title="Raid", text="Officers searched balkan express ltd. today")
    near_miss = SimpleNamespace(id=32, title="x", text="TransBalkan Express Ltdx")
    signals.article_stored.send(None, article=hit, actor=None)
    signals.article_stored.send(None, article=near_miss, actor=None)
    [alert] = _alerts(db)
    assert alert.subject_id == 31 and alert.source_kind == "watch"


def test_task_assigned_alerts_the_assignee_not_the_assigner(make, db, fake_subjects):
    unit = make.unit()
    assigner = make.user(roles=["supervisor"], unit=unit)
    assignee = make.user(roles=["enforcement_officer"], unit=unit)
    other = make.user(roles=["enforcement_officer"], unit=unit)
    fake_subjects("case", 21, unit)
    me = make.actor(assigner)
    for n, title in enumerate(["Weigh the goods", "Photograph the goods"]):
        task = SimpleNamespace(id=4 + n, case_id=21, title=title)
        signals.task_assigned.send(None, task=task, assignee=assignee, actor=me)
    signals.task_assigned.send(
        None, task=SimpleNamespace(id=7, case_id=21, title="Report"), assignee=other, actor=me
    )
    signals.task_assigned.send(
        None, task=SimpleNamespace(id=8, case_id=21, title="x"), assignee=assigner, actor=me
    )
    mine, theirs = _alerts(db)
    assert [r.user_id for r in mine.recipients] == [assignee.id]
    assert mine.count == 2 and len(mine.reasons) == 2  # folded per assignee and case
    assert [r.user_id for r in theirs.recipients] == [other.id]
    assert mine.severity == "low"


def test_a_fault_in_alerting_never_breaks_the_sender(make, db, app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "TOLLGATE_ALERTS_RAISE", False)
    unit = make.unit()
    db.session.add(
        Watch(
            kind="entity",
            entity_id=1,
            label="x",
            owner_id=make.user(roles=["intelligence_officer"], unit=unit).id,
            recipients={"roles": ["pope"]},
        )
    )  # corrupt row: an unknown role
    db.session.flush()
    broken_link = SimpleNamespace(id=1, source_id=1, target_id=2)  # no link_type: fine
    monkeypatch.setattr(watches, "watch_recipients", lambda *_: 1 / 0)
    signals.link_created.send(None, link=broken_link, actor=None)  # must not raise
    assert "alert receiver on_link_created failed" in caplog.text
    assert _alerts(db) == []
    unit.name = "still usable"
    db.session.flush()  # the sender's transaction goes on
