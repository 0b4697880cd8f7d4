"""Issue 19 items 3 and 4: merges that add up (no doubled goods or template tasks, the journal
in time order), and the case file as PDF with its marking on every page, the print trailed."""

import io
from datetime import timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from app.cases import case_tasks, casefile, merging, offences, parties, service
from app.cases.models import Case, CaseTask, JournalEntry
from app.core.time import now_utc
from app.security.trail import AccessEvent
from tests.cases.factories import officer, seizure


def test_merging_a_duplicate_does_not_double_goods_or_template_tasks(make, db):
    """Seen: merging copied the duplicate's template tasks and goods lines."""
    _, actor = officer(make)
    target = seizure(actor)
    dup = seizure(
        actor,
        items=[
            {  # the same cigarettes, recorded twice
                "commodity_area": "tobacco",
                "hs_code": "240220",
                "description": "Cigarettes",
                "quantity": "20000",
                "quantity_unit": "sticks",
                "value": "4400",
            },
            {"commodity_area": "alcohol", "description": "Vodka", "value": "900"},
        ],
    )
    case_tasks.add_task(dup.id, "Call the owner", actor=actor)
    template_titles = [t.title for t in target.tasks]
    assert template_titles and template_titles == [t.title for t in dup.tasks][:-1]
    merging.merge_cases(target.id, dup.id, actor=actor)
    db.session.flush()
    db.session.expire_all()
    target = db.session.get(Case, target.id)
    assert [i.description for i in target.items] == ["Cigarettes", "Vodka"]
    assert target.total_value == Decimal("5300.00")  # not 9700
    titles = [t.title for t in target.tasks]
    assert sorted(titles) == sorted([*template_titles, "Call the owner"])
    left = db.session.scalars(select(CaseTask).where(CaseTask.case_id == dup.id)).all()
    assert all(t.status == "cancelled" for t in left)
    assert "goods already here not copied: Cigarettes" in target.journal[-1].text


def test_the_journal_reads_in_time_order_after_a_merge(make, db):
    """Seen: the duplicate's entries came after the target's, whatever their time."""
    _, actor = officer(make)
    dup = seizure(actor)
    early = service.add_journal_entry(dup.id, "Driver interviewed first", actor=actor)
    early.created_dt = now_utc() - timedelta(days=2)
    target = seizure(actor)
    service.add_journal_entry(target.id, "Truck weighed later", actor=actor)
    merging.merge_cases(target.id, dup.id, actor=actor)
    db.session.flush()
    db.session.expire_all()
    target = db.session.get(Case, target.id)
    stamps = [j.created_dt for j in target.journal]
    assert stamps == sorted(stamps)
    texts = [j.text for j in target.journal]
    assert texts.index(f"[from {dup.reference}] Driver interviewed first") < texts.index(
        "Truck weighed later"
    )
    assert db.session.scalars(select(JournalEntry).where(JournalEntry.case_id == target.id))


def _pages(data: bytes) -> list[str]:
    """Each page's text, whitespace folded (the marking wraps over lines)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_the_case_file_carries_the_marking_on_every_page(make, db):
    """Seen: printing a code-C case dropped its handling marking and status."""
    _, actor = officer(make)
    case = seizure(actor, handling_code="C", handling_conditions="Not to the prosecutor yet")
    for n in range(60):  # a journal long enough for several pages
        service.add_journal_entry(case.id, f"Observation {n}: the truck stood still.", actor=actor)
    data, name = casefile.case_file(case.id, actor=actor, justification="Court hearing")
    assert name.endswith(".pdf")
    pages = _pages(data)
    assert len(pages) >= 2
    for text in pages:
        assert "HANDLING CODE C" in text
        assert "Not to the prosecutor yet" in text
        assert case.reference in text and "status: Open" in text
    assert "Cigarettes" in pages[0] and "Observation 59" in pages[-1]
    event = db.session.scalars(select(AccessEvent).order_by(AccessEvent.id.desc())).first()
    assert (event.action, event.record_id) == ("print", str(case.id))
    assert event.justification == "Court hearing"


def test_the_case_file_route_needs_a_reason_and_need_to_know(client, login_as, make, db):
    unit = make.unit()
    user = login_as("enforcement_officer", unit=unit)
    case = seizure(make.actor(user), handling_code="C")
    db.session.commit()
    resp = client.post(f"/cases/{case.id}/file.pdf", data={"file-justification": ""})
    assert resp.status_code == 302
    resp = client.post(f"/cases/{case.id}/file.pdf", data={"file-justification": "Hearing"})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "HANDLING CODE C" in _pages(resp.data)[0]
    login_as("enforcement_officer")  # another unit
    resp = client.post(f"/cases/{case.id}/file.pdf", data={"file-justification": "Hearing"})
    assert resp.status_code == 404


def test_a_criminal_report_produces_its_referral(make, db):
    _, actor = officer(make)
    case = service.open_case("offence", actor=actor, title="Undeclared gold", handling_code="C")
    offences.decide_offence(
        case.id,
        actor=actor,
        evaded_duties="12500",
        legal_provision="Criminal Code Art. 236",
        decision_text="Gold bars hidden in the spare tyre.",
    )
    data, name = casefile.referral(case.id, actor=actor, justification="To the prosecutor")
    text = "\n".join(_pages(data))
    assert "referral to the public prosecutor" in text and "Gold bars hidden" in text
    assert "HANDLING CODE C" in text and name.startswith("referral-")


def test_a_shared_case_file_names_only_the_parties_its_reader_may_open(make, db):
    """The seam rule in the PDF: a unit-B reader of a shared code-C case reads "a restricted
    record of <unit>" for a code-C suspect of unit A that was not shared."""
    from app.security import shares
    from tests.cases.factories import entity

    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a, roles=["supervisor"])
    reader, reader_actor = officer(make, unit_b)
    case = seizure(owner, handling_code="C")
    suspect = entity(owner, "Sentinel Suspect Zqx", handling_code="C")
    parties.add_party(case.id, actor=owner, role="suspect", entity_id=suspect.id)
    shares.create_share(
        "case",
        case.id,
        actor=owner,
        reason="joint operation",
        expires=(now_utc() + timedelta(days=5)).isoformat(),
        user_id=reader.id,
    )
    db.session.flush()
    text = "\n".join(_pages(casefile.case_file(case.id, actor=reader_actor, justification="x")[0]))
    assert "Sentinel Suspect Zqx" not in text and "a restricted record of" in text
    text = "\n".join(_pages(casefile.case_file(case.id, actor=owner, justification="x")[0]))
    assert "Sentinel Suspect Zqx" in text


def test_long_handling_conditions_are_printed_whole_on_every_page(make, db):
    _, actor = officer(make)
    conditions = "Own unit only; " + "not to the prosecutor before the hearing; " * 12 + "END."
    case = seizure(actor, handling_code="C", handling_conditions=conditions)
    for n in range(40):
        service.add_journal_entry(case.id, f"Observation {n}", actor=actor)
    pages = _pages(casefile.case_file(case.id, actor=actor, justification="x")[0])
    assert len(pages) >= 2
    for text in pages:
        assert text.count("END.") == 2  # header and footer, nothing cut
