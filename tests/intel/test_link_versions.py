"""Issue 19 item 5: links are corrected and ended as new versions, with a reason, trailed."""

from datetime import date

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.intel import links, service
from app.intel.models import Link, LinkVersion
from app.security.access import NotFound
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


def _link(actor):
    a = entity(actor, "Ana Open", entity_type="person")
    b = entity(actor, "Ben Open", entity_type="person")
    return service.add_link(a.id, b.id, "associate_of", actor=actor, grade="2B")


def test_correction_keeps_the_earlier_reading(make, db):
    _, actor = officer(make)
    link = _link(actor)
    links.update_link(link.id, actor=actor, reason="they are family", link_type="family_of")
    assert link.link_type == "family_of"
    (old,) = links.versions_of(link)
    assert (old.version, old.link_type, old.grade, old.reason) == (
        1,
        "associate_of",
        "2B",
        "they are family",
    )
    rows = db.session.scalars(
        select(AccessEvent).where(AccessEvent.action == "update", AccessEvent.record_type == "link")
    ).all()
    assert [r.record_id for r in rows] == [str(link.id)]


def test_end_is_soft_and_needs_a_reason(make, db):
    _, actor = officer(make)
    link = _link(actor)
    with pytest.raises(ValidationError) as err:
        links.end_link(link.id, actor=actor, reason=" ")
    assert "reason" in err.value.fields
    links.end_link(link.id, actor=actor, reason="sold the company", end_date=date(2026, 1, 31))
    assert db.session.get(Link, link.id).end_date == date(2026, 1, 31)
    assert db.session.scalar(select(LinkVersion.end_date)) is None


def test_hidden_link_is_not_found(make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    _, actor_b = officer(make, unit_b)
    a = entity(actor_a, "Ana", entity_type="person")
    b = entity(actor_a, "Ben", entity_type="person")
    link = service.add_link(a.id, b.id, "associate_of", actor=actor_a, handling_code="C")
    with pytest.raises(NotFound):
        links.end_link(link.id, actor=actor_b, reason="x")


def test_entity_page_corrects_and_ends_a_link(client, login_as, make, db):
    user = login_as("intelligence_officer")
    _, actor = officer(make, user.unit)
    link = _link(actor)
    db.session.commit()
    page = client.get(f"/intel/entities/{link.source_id}").get_data(as_text=True)
    assert f'action="/intel/links/{link.id}/edit"' in page
    resp = client.post(
        f"/intel/links/{link.id}/edit",
        data={"link_type": "associate_of", "end_date": "", "reason": "ended", "action": "end"},
        follow_redirects=True,
    )
    assert "Link ended." in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Link, link.id).end_date is not None
    assert len(db.session.scalars(select(LinkVersion)).all()) == 1
