"""Opening cases, references, workflow, tasks, journal, need-to-know and the trail."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.cases import case_tasks, from_control, parties, service
from app.cases.models import Case
from app.core import signals
from app.core.errors import ValidationError
from app.security.access import NotFound
from app.security.trail import AccessEvent
from tests.cases.factories import entity, officer, seizure


def _trail(db, action, record_type="case"):
    return db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.action == action, AccessEvent.record_type == record_type
        )
    ).all()


def test_seizure_gets_reference_items_totals_tasks_and_journal(make, db):
    unit = make.unit(code="BCP-X")
    _, actor = officer(make, unit)
    case = seizure(
        actor,
        items=[
            {
                "commodity_area": "tobacco",
                "description": "Cigarettes",
                "quantity": "1000",
                "quantity_unit": "sticks",
                "value": "250",
            },
            {
                "commodity_area": "drugs",
                "description": "Cannabis",
                "quantity": "2.5",
                "quantity_unit": "kg",
                "value": "6000",
            },
        ],
        event_dt="2026-03-04T05:06",
    )
    year = datetime.now(UTC).year
    assert case.reference == f"BCP-X/{year}/00001"
    assert seizure(actor).reference == f"BCP-X/{year}/00002"
    assert case.total_value == Decimal("6250.00")
    assert case.commodity_area == "drugs"  # the most valuable item
    assert [i.position for i in case.items] == [1, 2]
    assert case.event_dt == datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    assert [t.title for t in case.tasks][0] == "Secure and photograph the goods"
    assert "Seizure case opened" in case.journal[0].text
    assert len(_trail(db, "create")) == 2


def test_references_are_per_unit_and_year(make, db):
    _, a = officer(make, make.unit(code="AA"))
    _, b = officer(make, make.unit(code="BB"))
    assert seizure(a).reference.endswith("/00001")
    assert seizure(b).reference.endswith("/00001")
    old = seizure(a, opened_dt=datetime(2020, 5, 1, tzinfo=UTC))
    assert old.reference == "AA/2020/00001"


def test_item_errors_name_the_item_and_field(make, db):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        seizure(
            actor,
            items=[
                {"commodity_area": "tobacco", "description": "ok"},
                {
                    "commodity_area": "bananas",
                    "description": "",
                    "quantity": "-3",
                    "hs_code": "12ab",
                },
            ],
        )
    fields = err.value.fields
    assert "items[1].commodity_area" in fields
    assert fields["items[1].description"] == "is required"
    assert fields["items[1].quantity"] == "must be at least 0"
    assert "HS code" in fields["items[1].hs_code"]
    assert "items[0].commodity_area" not in fields
    assert db.session.scalar(select(Case)) is None


def test_bad_case_fields_are_all_reported(make, db):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        service.open_case(
            "seizure",
            actor=actor,
            title="",
            transport_mode="zeppelin",
            event_dt="yesterday",
            priority=9,
        )
    assert set(err.value.fields) == {"title", "transport_mode", "event_dt", "priority"}


def test_cannot_open_for_another_unit(make, db):
    _, actor = officer(make)
    other = make.unit()
    with pytest.raises(ValidationError) as err:
        seizure(actor, unit_id=other.id)
    assert "unit_id" in err.value.fields


def test_workflow_transitions_resolution_and_permissions(make, db):
    _, actor = officer(make)
    _, analyst = officer(make, roles=["risk_analyst"])
    case = seizure(actor)
    with pytest.raises(ValidationError, match="resolution"):
        service.change_status(case.id, "closed", actor=actor)
    service.change_status(case.id, "investigation", actor=actor)
    with pytest.raises(ValidationError, match="already"):
        service.change_status(case.id, "investigation", actor=actor)
    service.change_status(
        case.id, "closed", actor=actor, resolution="confiscated", note="Goods destroyed"
    )
    assert case.status == "closed" and case.resolution == "confiscated"
    assert case.closed_dt is not None
    assert "Goods confiscated" in case.journal[-1].text
    with pytest.raises(ValidationError, match="closed"):
        service.add_items(case.id, [{"commodity_area": "other", "description": "x"}], actor=actor)
    service.change_status(case.id, "open", actor=actor)
    assert case.resolution is None
    from app.security.access import AccessDenied

    with pytest.raises(AccessDenied):
        service.change_status(case.id, "investigation", actor=analyst)


def test_closing_needs_case_decide(make, db):
    _, officer_actor = officer(make)
    unit = make.unit()
    _, intel = officer(make, unit, roles=["intelligence_officer"])  # edit, no decide
    case = service.open_case("investigation", actor=intel, title="Network")
    from app.security.access import AccessDenied

    with pytest.raises(AccessDenied, match="case.decide"):
        service.change_status(case.id, "closed", actor=intel, resolution="no_further_action")
    assert officer_actor.can("case.decide")


def test_tasks_assignment_sends_signal_and_shows_on_home(make, db, client):
    user, actor = officer(make)
    other = make.user(unit=user.unit)
    received = []

    def on_assigned(sender, **kw):
        received.append((kw["task"].title, kw["assignee"].id, kw["actor"].username))

    signals.task_assigned.connect(on_assigned)
    try:
        case = seizure(actor)
        task = case_tasks.add_task(
            case.id, "Weigh the goods", actor=actor, assignee_id=other.id, due_date="2026-12-01"
        )
    finally:
        signals.task_assigned.disconnect(on_assigned)
    assert received == [("Weigh the goods", other.id, user.username)]
    assert task.due_date.isoformat() == "2026-12-01"
    with pytest.raises(ValidationError, match="no active user"):
        case_tasks.add_task(case.id, "x", actor=actor, assignee_id=999999)
    case_tasks.complete_task(case.id, task.id, actor=actor)
    assert task.status == "done" and task.completed_dt is not None
    assert "marked done" in case.journal[-1].text


def test_opening_and_editing_request_search_indexing(make, db):
    _, actor = officer(make)
    indexed = []

    def on_index(sender, **kw):
        indexed.append((kw["record_type"], kw["record_id"]))

    signals.search_index_requested.connect(on_index)
    try:
        case = seizure(actor)
        service.update_case(case.id, actor=actor, conveyance="Truck 01-234-AB")
    finally:
        signals.search_index_requested.disconnect(on_index)
    assert indexed.count(("case", case.id)) >= 2


def test_need_to_know_and_trail(make, db):
    _, owner = officer(make)
    _, outsider = officer(make)
    secret = seizure(owner, handling_code="C")
    open_case = seizure(owner)
    assert service.get_case(open_case.id, actor=outsider).id == open_case.id
    with pytest.raises(NotFound):
        service.get_case(secret.id, actor=outsider)
    denied = [e for e in _trail(db, "view") if e.outcome == "denied"]
    assert [(e.username, e.record_id) for e in denied] == [(outsider.username, str(secret.id))]
    with pytest.raises(NotFound):
        service.add_journal_entry(secret.id, "peek", actor=outsider)
    service.get_case(secret.id, actor=owner)
    allowed = [e for e in _trail(db, "view") if e.outcome == "allowed"]
    assert {e.record_id for e in allowed} == {str(open_case.id), str(secret.id)}


def test_update_journals_changes_and_validates(make, db):
    _, actor = officer(make)
    case = seizure(actor)
    service.update_case(
        case.id, actor=actor, conveyance="Truck", detection_method="dog", priority="4"
    )
    assert case.priority == 4 and case.detection_method == "dog"
    assert "conveyance" in case.journal[-1].text
    with pytest.raises(ValidationError) as err:
        service.update_case(
            case.id,
            actor=actor,
            period_start="2026-02-01",
            period_end="2026-01-01",
            reference="HACK",
        )
    assert set(err.value.fields) == {"period_end", "reference"}


def test_audit_case_first_task_is_the_desk_review(make, db):
    unit = make.unit()
    _, auditor = officer(make, unit, roles=["pca_auditor"])
    _, intel = officer(make, unit, roles=["intelligence_officer"])
    trader = entity(intel, "Acme Imports", "organisation")
    case = service.open_audit_case(
        trader.id,
        actor=auditor,
        risk_areas=["valuation"],
        period_start="2025-01-01",
        period_end="2025-12-31",
    )
    assert case.kind == "audit" and case.audit_type == "desk"
    assert case.tasks[0].title.startswith("Desk review")
    assert case.trader_entity_id == trader.id and case.trader_name == "Acme Imports"
    assert [(p.role, p.entity_id) for p in case.parties] == [("trader", trader.id)]
    assert case.checklist and case.checklist[0]["done"] is False
    case_tasks.set_checklist(case.id, ["0", "2"], actor=auditor)
    assert [r["done"] for r in case.checklist][:3] == [True, False, True]


def test_parties_are_mentioned_and_linked(make, db):
    from app.intel.models import EntityMention, Link

    _, actor = officer(make)
    driver = entity(actor, "Driver One")
    truck = entity(actor, "Truck 01-234-AB", "vehicle")
    case = seizure(actor)
    parties.add_party(case.id, actor=actor, role="driver", entity_id=driver.id)
    parties.add_party(case.id, actor=actor, role="vehicle", entity_id=truck.id)
    party = parties.add_party(
        case.id, actor=actor, role="suspect", new_entity={"type": "person", "name": "New Suspect"}
    )
    assert [p.role for p in case.parties] == ["driver", "vehicle", "suspect"]
    assert party.entity_name == "New Suspect"
    mentions = db.session.scalars(
        select(EntityMention).where(
            EntityMention.record_type == "case", EntityMention.record_id == case.id
        )
    ).all()
    assert len(mentions) == 3
    links = db.session.scalars(
        select(Link).where(Link.provenance_type == "case", Link.provenance_id == case.id)
    ).all()
    kinds = {(lk.source_id, lk.target_id, lk.link_type) for lk in links}
    assert (driver.id, truck.id, "drives") in kinds
    assert len(links) == 3  # every pair of the three parties
    with pytest.raises(ValidationError) as err:
        parties.add_party(case.id, actor=actor, role="suspect", entity_id=987654)
    assert "party.entity_id" in err.value.fields
    with pytest.raises(ValidationError) as err:
        parties.add_party(case.id, actor=actor, role="boss", entity_id=driver.id)
    assert "party.role" in err.value.fields


def test_open_seizure_from_control_prefills_and_is_idempotent(make, db):
    _, actor = officer(make)
    owner = entity(actor, "Importer Ltd", "organisation")
    ref = {
        "declaration_id": 77,
        "number": "25XK000123",
        "office": "Customs office Peja",
        "transport_mode": "road",
        "items": [
            {
                "hs_code": "240220",
                "description": "Cigarettes",
                "quantity": 5000,
                "unit": "sticks",
                "value": 1200,
            }
        ],
        "parties": [{"entity_id": owner.id, "role": "consignee"}],
    }
    case = from_control.open_seizure_from_control(ref, actor=actor)
    assert case.kind == "seizure" and case.place == "Customs office Peja"
    assert case.declaration_number == "25XK000123" and case.transport_mode == "road"
    assert case.items[0].commodity_area == "tobacco"
    assert case.parties[0].role == "consignee"
    assert case.links[0].target_type == "declaration" and case.links[0].target_id == "77"
    assert from_control.open_seizure_from_control(ref, actor=actor).id == case.id


def test_links_to_other_cases(make, db):
    _, actor = officer(make)
    a, b = seizure(actor), seizure(actor)
    link = service.add_link(a.id, "case", b.reference, actor=actor)
    assert link.target_id == str(b.id) and link.label == b.reference
    with pytest.raises(ValidationError, match="already linked"):
        service.add_link(a.id, "case", str(b.id), actor=actor)
    with pytest.raises(ValidationError, match="itself"):
        service.add_link(a.id, "case", a.reference, actor=actor)


def test_similar_cases_share_party_conveyance_or_declaration(make, db):
    from app.cases.tasks import refresh_planner_statistics

    _, actor = officer(make)
    _, outsider = officer(make)
    person = entity(actor, "Repeat Smuggler")
    a = seizure(actor, conveyance="Truck 01-234-AB")
    b = seizure(actor, title="Earlier one")
    c = seizure(actor, title="Same truck", conveyance="Truck 01-234-AB")
    hidden = seizure(actor, title="Hidden", conveyance="Truck 01-234-AB", handling_code="C")
    seizure(actor, title="Unrelated")
    parties.add_party(a.id, actor=actor, role="driver", entity_id=person.id)
    parties.add_party(b.id, actor=actor, role="suspect", entity_id=person.id)
    found = {other.id: why for other, why in parties.similar_cases(a, actor=actor)}
    assert found == {
        b.id: "same party: Repeat Smuggler",
        c.id: "same conveyance: Truck 01-234-AB",
        hidden.id: "same conveyance: Truck 01-234-AB",
    }
    assert hidden.id not in {o.id for o, _ in parties.similar_cases(a, actor=outsider)}
    db.session.commit()
    refresh_planner_statistics()  # the nightly job runs on both backends


def test_seizure_from_control_tolerates_declaration_codes_and_missing_parties(make, db):
    _, actor = officer(make)
    _, other = officer(make)
    hidden = entity(other, "Someone Else's Secret", handling_code="C")
    ref = {
        "declaration_id": 9,
        "number": "25XK0009",
        "office": "Peja",
        "transport_mode": "3",
        "items": [
            {
                "hs_code": "2402.20",
                "description": "Cigarettes",
                "quantity": 12,
                "unit": "KGM",
                "value": "310.5",
            },
            {
                "hs_code": "ABC",
                "description": "Spare parts",
                "quantity": 3,
                "unit": "XYZ",
                "value": None,
            },
        ],
        "parties": [
            {"entity_id": hidden.id, "role": "consignee"},
            {"entity_id": 424242, "role": "declarant"},
        ],
    }
    case = from_control.open_seizure_from_control(ref, actor=actor)
    first, second = case.items
    assert (first.hs_code, first.quantity_unit, str(first.value)) == ("240220", "kg", "310.50")
    assert first.commodity_area == "tobacco" and case.transport_mode == "other"
    assert second.hs_code is None and second.quantity is None
    assert "(3.000 XYZ)" in second.description
    assert case.parties == []
    assert sum("could not be added" in j.text for j in case.journal) == 2
