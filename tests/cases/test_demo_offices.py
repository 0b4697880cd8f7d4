"""Issue 19 item 7: the demo's declaration offices AIR-C (airport) and POST-1 (post) mapped to
no unit, so a seizure found there opened in whichever unit recorded the control. Each office
the demo declares at now has its unit (named by the office code, as BCP-N and PORT-S), with an
officer; and the demo has the headquarters unit `make run` designates for escalations."""

from sqlalchemy import select

from app.risk.control import office_unit_id
from app.risk.demo import OFFICES
from app.security.demo import load_security_demo
from app.security.models import Unit, User


def _users_of(db, unit_id, role):
    users = db.session.scalars(select(User).where(User.unit_id == unit_id)).all()
    return [u for u in users if role in u.roles]


def test_every_demo_office_maps_to_a_unit_with_an_officer(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_OFFICE_UNITS", {})
    load_security_demo({})
    db.session.flush()
    codes = {office for office, _mode in OFFICES}  # the offices the demo traffic declares at
    assert {"AIR-C", "POST-1"} <= codes
    for code in sorted(codes):
        unit_id = office_unit_id(code)
        assert unit_id is not None, f"demo office {code} maps to no unit"
        assert _users_of(db, unit_id, "enforcement_officer"), f"nobody works at {code}"


def test_the_demo_has_a_headquarters_unit_with_a_supervisor(db):
    load_security_demo({})
    db.session.flush()
    hq = db.session.scalar(select(Unit).where(Unit.code == "HQ-ENF"))
    assert hq is not None and hq.kind == "hq"
    assert _users_of(db, hq.id, "supervisor")
