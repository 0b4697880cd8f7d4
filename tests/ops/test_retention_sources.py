"""Retention review for every record type (issue 17, item 8).

Seen: retention review covered only the access trail: cases, reports, declarations and
personal data never came up for review. Now cases, reports, entities, declarations and
articles each have a review period in the configuration, come up in the queue when it has
passed (the scheduled job says what came due), and are kept with a reason, anonymised or
deleted as their type's policy allows, each decision trailed."""

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.cases.parties import add_party
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.intel.models import Entity, EntityIdentifier, IntelReport
from app.intel.reports import create_report
from app.ops import retention
from app.ops.models import ReviewItem
from app.risk.models import Declaration
from app.security.trail import AccessEvent
from app.textmining.models import Article
from tests.cases.factories import officer, seizure
from tests.intel.factories import entity
from tests.intel.factories import officer as intel_officer
from tests.risk.factories import body, submit
from tests.textmining.factories import article

TYPES = ("case", "report", "entity", "declaration", "article")


@pytest.fixture
def periods(app, monkeypatch):
    """Every period 30 days (the records below are made 40 days old)."""
    for name in ("CASE", "REPORT", "ENTITY", "DECLARATION", "ARTICLE"):
        monkeypatch.setitem(app.config, f"TOLLGATE_RETENTION_{name}_DAYS", 30)


def _world(make, db):
    old = now_utc() - timedelta(days=40)
    unit = make.unit()
    _, case_actor = officer(make, unit)
    _, intel_actor = intel_officer(make, unit)
    person = entity(intel_actor, name="Dragan Sentinel", entity_type="person")
    case = seizure(case_actor, title="Old seizure")
    add_party(case.id, actor=case_actor, role="suspect", entity_id=person.id)
    case.status, case.resolution, case.closed_dt = "closed", None, old
    report = create_report(
        "Courier route", "A courier route through the north.", "2", "B", actor=intel_actor
    )
    report.updated_dt = old
    decl = submit(body("RET-1", date=(old - timedelta(days=1)).date().isoformat()))
    news = article("Cigarettes seized at the northern border.", title="Border news")
    news.created_dt = old
    db.session.flush()
    person.updated_dt = old
    db.session.flush()
    return {
        "case": case,
        "report": report,
        "entity": person,
        "declaration": decl,
        "article": news,
    }


def test_every_record_type_comes_up_for_review_and_the_job_says_so(app, make, db, periods, caplog):
    records = _world(make, db)
    with caplog.at_level(logging.INFO, logger="app.ops.retention"):
        counts = retention.run_review_job()
    for record_type in TYPES:
        assert counts[record_type] >= 1, counts
    queued = {
        (r.record_type, r.record_id)
        for r in db.session.scalars(select(ReviewItem).where(ReviewItem.status == "pending"))
    }
    assert {(t, str(records[t].id)) for t in TYPES} <= queued
    # The stored summary names no code-C record (the seam rule): the report is code C.
    summary = db.session.scalar(
        select(ReviewItem.summary).where(ReviewItem.record_type == "report")
    )
    assert records["report"].handling_code == "C"
    assert records["report"].reference not in summary and "a restricted record" in summary
    message = " ".join(r.getMessage() for r in caplog.records)
    for label in ("Cases", "Intelligence reports", "Registry entities", "Declarations"):
        assert label in message
    # Queued once: the next run adds nothing.
    assert sum(retention.queue_overdue_by_type().values()) == 0


def test_a_period_not_yet_over_queues_nothing(app, make, db, monkeypatch):
    """The default periods (years) are not over for records 40 days old."""
    _world(make, db)
    counts = retention.queue_overdue_by_type()
    assert {t: counts[t] for t in TYPES} == dict.fromkeys(TYPES, 0)
    monkeypatch.setitem(app.config, "TOLLGATE_RETENTION_DECLARATION_DAYS", 30)
    assert retention.queue_overdue_by_type()["declaration"] == 1


def test_decisions_follow_each_types_policy_and_are_trailed(app, make, db, periods):
    records = _world(make, db)
    retention.queue_overdue()
    reviewer = make.actor(make.user(roles=["administrator"]))
    items = {
        r.record_type: r
        for r in db.session.scalars(select(ReviewItem).where(ReviewItem.status == "pending"))
    }
    with pytest.raises(ValidationError) as err:
        retention.decide(items["case"], "delete", "too old", actor=reviewer)
    assert "not allowed" in err.value.fields["decision"]
    with pytest.raises(ValidationError):
        retention.decide(items["article"], "anonymise", "too old", actor=reviewer)

    retention.decide(items["case"], "anonymise", "Closed, period over", actor=reviewer)
    retention.decide(items["entity"], "anonymise", "No longer needed", actor=reviewer)
    retention.decide(items["declaration"], "anonymise", "Period over", actor=reviewer)
    retention.decide(
        items["report"],
        "keep",
        "Investigation still open",
        actor=reviewer,
        next_review_dt=now_utc() + timedelta(days=90),
    )
    retention.decide(items["article"], "delete", "Old news", actor=reviewer)
    db.session.expire_all()

    case = db.session.get(Case, records["case"].id)
    assert case.parties == [] and any("Retention review" in j.text for j in case.journal)
    person = db.session.get(Entity, records["entity"].id)
    assert "Dragan" not in person.name and person.aliases == [] and person.identifiers == {}
    assert not db.session.scalars(
        select(EntityIdentifier).where(EntityIdentifier.entity_id == person.id)
    ).all()
    decl = db.session.get(Declaration, records["declaration"].id)
    assert (decl.importer_code, decl.declarant_code, decl.seller_code) == (None, None, None)
    assert decl.items and decl.channel  # statistics keep their facts
    report = db.session.get(IntelReport, records["report"].id)
    assert report.review_date == (now_utc() + timedelta(days=90)).date()
    assert report.body  # kept
    assert db.session.get(Article, records["article"].id) is None

    rows = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type.in_(TYPES)).order_by(AccessEvent.seq)
    ).all()
    decided = [
        (e.record_type, e.action)
        for e in rows
        if "retention_review"
        in (json.loads(e.details) if isinstance(e.details, str) else e.details or {})
    ]
    assert sorted(decided) == [
        ("article", "delete"),
        ("case", "update"),
        ("declaration", "update"),
        ("entity", "update"),
        ("report", "update"),
    ]
    # Anonymised, deleted or kept: none comes up again.
    assert sum(retention.queue_overdue_by_type().values()) == 0


def test_the_retention_page_offers_each_types_decisions(client, login_as, make, db, periods):
    records = _world(make, db)
    retention.queue_overdue()
    db.session.commit()
    login_as("administrator")
    page = client.get("/admin/retention/").get_data(as_text=True)
    for label in ("Cases", "Intelligence reports", "Registry entities", "Open-source articles"):
        assert label in page
    assert "TOLLGATE_RETENTION_DECLARATION_DAYS" in page
    item = db.session.scalar(select(ReviewItem).where(ReviewItem.record_type == "article"))
    select_html = page.split(f'id="decision-{item.id}"')[1].split("</select>")[0]
    assert "Delete" in select_html and "Anonymise" not in select_html

    case_item = db.session.scalar(select(ReviewItem).where(ReviewItem.record_type == "case"))
    resp = client.post(
        f"/admin/retention/{case_item.id}/decide",
        data={"decision": "anonymise", "reason": "Closed ten years ago"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewItem, case_item.id).status == "anonymised"
    assert db.session.get(Case, records["case"].id).parties == []
