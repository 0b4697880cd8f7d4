"""The evaded-duty threshold and merging duplicates (nothing lost)."""

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.cases import case_tasks, evidence, merging, offences, parties, service
from app.cases.models import Case, CaseTask, Evidence, JournalEntry, SeizureItem
from app.core.errors import ValidationError
from app.security.access import AccessDenied, NotFound
from tests.cases.factories import PNG, entity, officer, seizure


def _offence(actor):
    return service.open_case("offence", actor=actor, title="Undervalued shoes")


@pytest.mark.parametrize(
    ("evaded", "expected"),
    [
        ("4999.99", "offence_decision"),
        ("5000", "offence_decision"),
        ("5000.01", "criminal_report"),
        ("125000", "criminal_report"),
    ],
)
def test_threshold_decides_offence_or_criminal_report(make, db, evaded, expected):
    user, actor = officer(make)
    case = _offence(actor)
    offences.decide_offence(
        case.id,
        actor=actor,
        evaded_duties=evaded,
        legal_provision="Customs Code Art. 273",
        decision_text="Decided.",
    )
    assert case.decision_type == expected
    assert case.decision_threshold == Decimal("5000.00")
    assert case.decided_by_id == user.id and case.decided_dt is not None
    assert case.status == "decision"
    assert (
        "Criminal report" if expected == "criminal_report" else "Offence decision"
    ) in case.journal[-1].text


def test_threshold_is_configurable(make, db, app):
    _, actor = officer(make)
    case = _offence(actor)
    old = app.config["TOLLGATE_EVADED_DUTY_THRESHOLD"]
    app.config["TOLLGATE_EVADED_DUTY_THRESHOLD"] = 1000.0
    try:
        offences.decide_offence(
            case.id, actor=actor, evaded_duties="1500", legal_provision="Art. 1", decision_text="x"
        )
    finally:
        app.config["TOLLGATE_EVADED_DUTY_THRESHOLD"] = old
    assert case.decision_type == "criminal_report"
    assert case.decision_threshold == Decimal("1000.00")


def test_decision_input_errors_and_permission(make, db):
    unit = make.unit()
    _, actor = officer(make, unit)
    _, intel = officer(make, unit, roles=["intelligence_officer"])
    case = _offence(actor)
    with pytest.raises(ValidationError) as err:
        offences.decide_offence(
            case.id, actor=actor, evaded_duties="lots", legal_provision="", decision_text=""
        )
    assert set(err.value.fields) == {"evaded_duties", "legal_provision", "decision_text"}
    with pytest.raises(ValidationError, match="court"):
        offences.decide_offence(
            case.id,
            actor=actor,
            evaded_duties="9000",
            penalty="100",
            legal_provision="Art. 1",
            decision_text="x",
        )
    with pytest.raises(AccessDenied):
        offences.decide_offence(
            case.id, actor=intel, evaded_duties="10", legal_provision="Art. 1", decision_text="x"
        )
    assert case.decision_type is None


def test_merge_moves_everything_and_closes_the_duplicate(make, db):
    _, actor = officer(make)
    target = seizure(actor, title="Cigarettes, truck 1")
    dup = seizure(
        actor,
        title="Cigarettes, same truck",
        conveyance="Truck 01-234-AB",
        handling_code="C",
        handling_conditions="Own unit only",
        items=[{"commodity_area": "alcohol", "description": "Vodka", "value": "900"}],
    )
    suspect = entity(actor, "Shared Suspect")
    other = entity(actor, "Only In Duplicate")
    parties.add_party(target.id, actor=actor, role="suspect", entity_id=suspect.id)
    parties.add_party(dup.id, actor=actor, role="suspect", entity_id=suspect.id)
    parties.add_party(dup.id, actor=actor, role="driver", entity_id=other.id)
    dup_task = case_tasks.add_task(dup.id, "Call the owner", actor=actor)
    photo = evidence.store_evidence(dup.id, io.BytesIO(PNG), "truck.png", actor=actor)
    service.add_link(dup.id, "declaration", "25XK0001", actor=actor)
    service.add_journal_entry(dup.id, "Driver said he did not know", actor=actor)
    items_before = db.session.scalar(select(func.count()).select_from(SeizureItem))
    journal_before = db.session.scalar(select(func.count()).select_from(JournalEntry))

    merging.merge_cases(target.id, dup.id, actor=actor, note="same truck")
    db.session.flush()
    db.session.expire_all()
    target, dup = db.session.get(Case, target.id), db.session.get(Case, dup.id)

    assert [i.description for i in target.items] == ["Cigarettes", "Vodka"]
    assert [i.position for i in target.items] == [1, 2]
    assert target.total_value == Decimal("5300.00")
    assert sorted((p.role, p.entity_name) for p in target.parties) == [
        ("driver", "Only In Duplicate"),
        ("suspect", "Shared Suspect"),
    ]
    assert dup_task.id in [t.id for t in target.tasks]
    assert db.session.get(Evidence, photo.id).case_id == target.id
    assert ("declaration", "25XK0001") in [(lk.target_type, lk.target_id) for lk in target.links]
    assert ("case", str(dup.id)) in [(lk.target_type, lk.target_id) for lk in target.links]
    assert any("[from " + dup.reference + "] Driver said" in j.text for j in target.journal)
    assert target.conveyance == "Truck 01-234-AB"  # empty field filled
    assert target.handling_code == "C"  # the stricter code wins
    assert dup.status == "closed" and dup.resolution == "duplicate"
    assert dup.merged_into_id == target.id
    # Nothing deleted: every item and the duplicate's own journal survive.
    assert db.session.scalar(select(func.count()).select_from(SeizureItem)) == items_before
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) > journal_before
    assert any("Driver said" in j.text for j in dup.journal)
    # The template's tasks, already on the target, are not copied; the duplicate's own are.
    left = db.session.scalars(select(CaseTask).where(CaseTask.case_id == dup.id)).all()
    assert {t.title for t in left} == {t.title for t in target.tasks if t.id != dup_task.id}
    assert all(t.status == "cancelled" for t in left)

    with pytest.raises(ValidationError, match="already merged"):
        merging.merge_cases(target.id, dup.id, actor=actor)


def test_merge_rules(make, db):
    _, actor = officer(make)
    _, outsider = officer(make)
    a = seizure(actor)
    offence = service.open_case("offence", actor=actor, title="x")
    with pytest.raises(ValidationError, match="same kind"):
        merging.merge_cases(a.id, offence.id, actor=actor)
    with pytest.raises(ValidationError, match="itself"):
        merging.merge_cases(a.id, a.id, actor=actor)
    secret = seizure(actor, handling_code="C")
    mine = seizure(outsider)
    with pytest.raises(NotFound):
        merging.merge_cases(mine.id, secret.id, actor=outsider)
    assert secret.merged_into_id is None


def test_the_same_duplicate_merged_twice_at_once_moves_its_items_once(make, db, worker_app):
    """Two officers merge the same duplicate into the same case at the same moment: the
    second waits for the first, then is told it was already merged."""
    from app.extensions import db as _db
    from app.security.access import Actor
    from app.security.models import User
    from tests.concurrency import race

    user, actor = officer(make)
    target = seizure(actor, title="Cigarettes, truck 1")
    dup = seizure(actor, items=[{"commodity_area": "alcohol", "description": "Vodka"}])
    db.session.commit()
    target_id, dup_id, user_id = target.id, dup.id, user.id

    def merge():
        merging.merge_cases(target_id, dup_id, actor=Actor.for_user(_db.session.get(User, user_id)))

    outcome = race(worker_app, merge, merge)
    assert outcome["first"] == "done"
    assert "already merged" in outcome["second"], outcome
    db.session.rollback()
    items = db.session.scalar(
        select(func.count(SeizureItem.id)).where(SeizureItem.case_id == target_id)
    )
    assert items == 2
