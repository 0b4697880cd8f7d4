"""Watches, saved searches re-run over what changed, and digests."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import tasks, watches
from app.alerts.models import Alert, ChangedRecord, Delivery, Preference, SavedSearch, Watch
from app.core import signals
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.search.registry import SearchDoc, SearchSource, add_search_source
from app.security.access import Actor, NotFound, can_see
from tests.alerts.factories import raise_specimen_alert


def test_watch_validation_and_ownership(make, db):
    analyst = make.user(roles=["risk_analyst"])
    me = make.actor(analyst)
    with pytest.raises(ValidationError) as err:
        watches.watch_term(me, " x ")
    assert "term" in err.value.fields
    watch = watches.watch_term(me, "  Counterfeit   Cigarettes ")
    assert watch.term == "counterfeit cigarettes"
    with pytest.raises(ValidationError, match="already watch"):
        watches.watch_term(me, "counterfeit cigarettes")
    with pytest.raises(ValidationError) as err:
        watches.watch_entity(me, "abc")
    assert "entity_id" in err.value.fields
    officer = make.actor(make.user(roles=["enforcement_officer"]))
    with pytest.raises(Exception, match="alert.manage"):
        watches.watch_term(officer, "tobacco")
    other = make.actor(make.user(roles=["risk_analyst"]))
    with pytest.raises(NotFound):
        watches.remove_watch(other, watch.id)
    watches.remove_watch(me, watch.id)
    assert watches.list_watches(me) == []


def test_api_created_watch_needs_recipients(make, db):
    client, _ = make.api_client(["alerts:write"])
    actor = Actor.for_client(client, {"alert.view", "alert.manage"})
    with pytest.raises(ValidationError) as err:
        watches.watch_term(actor, "heroin")
    assert "recipients" in err.value.fields
    watch = watches.watch_term(actor, "heroin", recipients={"units": [client.unit_id]})
    assert watch.client_id == client.id and watch.owner_id is None


@pytest.fixture
def searchable(app, specimens):
    """A search source over this suite's specimens (titles carry a unique token)."""
    titles = {}
    source = SearchSource(
        record_type="specimen",
        label="Specimen",
        permission="case.view",
        documents=lambda ids: [
            SearchDoc(
                "specimen",
                i,
                titles[i],
                body=titles[i],
                date=now_utc(),
                unit_id=specimens[i].unit_id,
                handling_code=specimens[i].handling_code,
            )
            for i in (ids if ids is not None else list(titles))
            if i in titles
        ],
        visible_ids=lambda actor, ids: [
            i for i in ids if i in specimens and can_see(actor, specimens[i])
        ],
        url=lambda i: f"/specimens/{i}",
    )
    add_search_source(app, source)

    def add(unit, title, code="C"):
        record = specimens.add(unit, code)
        titles[record.id] = title
        signals.search_index_requested.send(None, record_type="specimen", record_id=record.id)
        return record

    yield add
    app.extensions["tollgate_search_sources"].pop("specimen", None)


def _index():
    from app.search import service as search_service

    search_service.apply_index_queue()


def test_saved_search_alerts_only_on_what_changed(make, db, searchable):
    token = f"zq{uuid.uuid4().hex[:8]}"
    unit = make.unit()
    analyst = make.user(roles=["intelligence_officer"], unit=unit)
    old = searchable(unit, f"{token} tobacco seizure at the port")  # before the search
    saved = watches.save_search(make.actor(analyst), name="Tobacco", query=f"{token} tobacco")
    saved.created_dt = saved.last_run_dt = now_utc() - timedelta(minutes=1)
    db.session.query(ChangedRecord).delete()  # the old record changed before it existed
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 0  # nothing changed since: not even run
    new = searchable(unit, f"{token} tobacco in a lorry")
    unrelated = searchable(unit, f"{token} cocaine in bananas")
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 1
    [alert] = db.session.scalars(select(Alert)).all()
    assert (alert.subject_type, alert.subject_id) == ("specimen", new.id)
    assert alert.source_kind == "saved_search" and "Tobacco" in alert.title
    assert old.id != new.id != unrelated.id
    # Re-indexing the same record later does not alert again.
    signals.search_index_requested.send(None, record_type="specimen", record_id=new.id)
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 0


def test_saved_search_respects_need_to_know(make, db, searchable):
    token = f"zq{uuid.uuid4().hex[:8]}"
    unit_a, unit_b = make.unit(), make.unit()
    analyst = make.user(roles=["intelligence_officer"], unit=unit_a)
    saved = watches.save_search(make.actor(analyst), name="Guns", query=f"{token} pistol")
    saved.created_dt = now_utc() - timedelta(minutes=1)
    searchable(unit_b, f"{token} pistol hidden", code="C")  # another unit's restricted record
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 0
    assert db.session.scalar(select(Alert)) is None


def test_no_change_log_without_saved_searches(make, db):
    signals.search_index_requested.send(None, record_type="case", record_id=1)
    assert db.session.scalar(select(ChangedRecord)) is None


def test_daily_digest_collects_the_days_alerts(make, db, specimens, smtp):
    unit = make.unit()
    reader = make.user(roles=["supervisor"], unit=unit)
    t0 = now_utc() - timedelta(hours=30)
    db.session.add(Preference(user_id=reader.id, email_mode="daily", last_digest_dt=t0))
    first = raise_specimen_alert(
        specimens.add(unit), {"users": [reader.id]}, now=t0 + timedelta(hours=1)
    )
    second = raise_specimen_alert(
        specimens.add(unit),
        {"users": [reader.id]},
        source_id=2,
        severity="low",
        now=t0 + timedelta(hours=2),
    )
    db.session.commit()
    assert db.session.scalar(select(Delivery).where(Delivery.kind == "alert")) is None
    assert tasks.queue_digests() == 1
    assert tasks.queue_digests() == 0  # not due again for a day
    from app.alerts import delivery

    delivery.deliver_due()
    [msg] = smtp.to(reader.email)
    assert "Daily digest: 2 alert(s)" in msg["Subject"]
    body = msg.get_content()
    assert first.title in body and second.title in body


def test_weekly_digest_waits_a_week(make, db, specimens):
    unit = make.unit()
    reader = make.user(roles=["supervisor"], unit=unit)
    db.session.add(
        Preference(
            user_id=reader.id, email_mode="weekly", last_digest_dt=now_utc() - timedelta(days=3)
        )
    )
    raise_specimen_alert(specimens.add(unit), {"users": [reader.id]})
    assert tasks.queue_digests() == 0
    assert tasks.queue_digests(now=now_utc() + timedelta(days=4, minutes=1)) == 1


def test_demo_loader_is_idempotent(make, db):
    from app.alerts.demo import load_alerts_demo

    unit = make.unit()
    make.user(roles=["intelligence_officer"], unit=unit, username="intel")
    make.user(roles=["risk_analyst"], unit=unit, username="analyst")
    load_alerts_demo({})
    load_alerts_demo({})
    terms = sorted(db.session.scalars(select(Watch.term).where(Watch.kind == "term")))
    assert terms == ["captagon", "cocaine", "counterfeit cigarettes"]
    assert len(db.session.scalars(select(SavedSearch)).all()) == 1
