"""Another unit cannot capture a declaration's seizure case (issue 15, item 5).

``open_seizure_from_control`` reuses the seizure case whose ``external_ref`` is
``declaration:<id>``. That key is reserved for the system (the API, forms and imports may not
write it), and the reuse only finds a case of the acting unit that the actor may see."""

import pytest
from sqlalchemy import select

from app.cases import from_control, service
from app.cases.models import Case
from app.risk.models import Declaration
from app.security.access import Actor
from tests.cases.factories import officer, seizure
from tests.risk.factories import body, item


def _h(token):
    return {"Authorization": f"Bearer {token}"}


SEIZED = {"inspected": True, "compliant": False, "fraud_type": "prohibited", "goods_seized": True}


def _declaration(client, make, unit, number):
    _, token = make.api_client(["declarations:write", "control-results:write"], unit=unit)
    resp = client.post(
        "/api/v1/declarations",
        json=body(number, items=[item(hs_code="2402200000", description="Cigarettes")]),
        headers=_h(token),
    )
    assert resp.status_code == 201, resp.get_json()
    from app.extensions import db

    return db.session.scalar(select(Declaration).where(Declaration.number == number)), token


@pytest.mark.parametrize(
    "ref", ["declaration:{id}", "DECLARATION:{id}", "  declaration:{id}", "import:X", "csv:ab"]
)
def test_api_may_not_write_a_reserved_reference(ref, client, make, db):
    unit_a, unit_b = make.unit(), make.unit()
    decl, _ = _declaration(client, make, unit_a, "CAP-API")
    _, token_b = make.api_client(["cases:read", "cases:write"], unit=unit_b)
    resp = client.post(
        "/api/v1/cases",
        json={"kind": "seizure", "title": "Bait", "external_ref": ref.format(id=decl.id)},
        headers=_h(token_b),
    )
    assert resp.status_code == 422, resp.get_json()
    assert "external_ref" in resp.get_json()["error"]["fields"]
    assert db.session.scalar(select(Case).where(Case.title == "Bait")) is None

    _, actor_b = officer(make, unit_b)
    own = seizure(actor_b, title="Own case")
    db.session.commit()
    resp = client.patch(
        f"/api/v1/cases/{own.id}",
        json={"external_ref": ref.format(id=decl.id)},
        headers=_h(token_b),
    )
    assert resp.status_code == 422 and "external_ref" in resp.get_json()["error"]["fields"]


def test_control_result_never_reuses_another_units_case(client, make, db):
    """A unit-B case carrying the key (written before the namespace was reserved) is not
    returned to unit A's control: unit A gets its own case, unit B's case is untouched."""
    unit_a, unit_b = make.unit(), make.unit()
    decl, token_a = _declaration(client, make, unit_a, "CAP-1")
    _, actor_b = officer(make, unit_b)
    bait = seizure(actor_b, title="Bait of unit B")
    bait.external_ref = f"declaration:{decl.id}"  # as a row written before the fix would be
    db.session.commit()
    journal_before = len(bait.journal)

    resp = client.post(
        "/api/v1/declarations/CAP-1/control-result", json=SEIZED, headers=_h(token_a)
    )
    assert resp.status_code == 201, resp.get_json()
    case_id = resp.get_json()["control_result"]["seizure_case_id"]
    assert case_id and case_id != bait.id
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case.unit_id == unit_a.id and case.external_ref == f"declaration:{decl.id}"
    assert len(db.session.get(Case, bait.id).journal) == journal_before


def test_reuse_within_the_unit_and_unchanged_key_on_edit(client, make, db):
    unit = make.unit()
    decl, _ = _declaration(client, make, unit, "CAP-2")
    _, actor = officer(make, unit)
    agent = Actor(**{**actor.__dict__, "permissions": actor.permissions | {"case.create"}})
    ref = {"declaration_id": decl.id, "number": decl.number, "items": []}
    first = from_control.open_seizure_from_control(ref, actor=agent)
    again = from_control.open_seizure_from_control(ref, actor=agent)
    assert again.id == first.id and first.external_ref == f"declaration:{decl.id}"

    # An edit that sends the key back unchanged (as a full form does) is fine; a new value
    # would detach the case from its declaration.
    service.update_case(first.id, actor=actor, external_ref=f"declaration:{decl.id}", place="X")
    assert first.place == "X"
    with pytest.raises(service.ValidationError) as err:
        service.update_case(first.id, actor=actor, external_ref="SOMETHING-ELSE")
    assert "external_ref" in err.value.fields

    # Another unit's actor never gets unit A's case back: it opens its own.
    other_unit = make.unit()
    _, outsider = officer(make, other_unit)
    outsider = Actor(**{**outsider.__dict__, "permissions": outsider.permissions | {"case.create"}})
    theirs = from_control.open_seizure_from_control(ref, actor=outsider)
    assert theirs.id != first.id and theirs.unit_id == other_unit.id
