"""The demo loader adds realistic cases once (idempotent)."""

from sqlalchemy import func, select

from app.cases.demo import load_case_demo
from app.cases.models import Case, CaseParty
from app.security.demo import load_security_demo


def test_demo_cases_load_once(db):
    load_security_demo({})
    load_case_demo({"small": True})
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(Case))
    kinds = set(db.session.scalars(select(Case.kind).distinct()))
    assert count == 60 and kinds == {"seizure", "offence", "audit", "investigation"}
    assert db.session.scalar(select(func.count()).select_from(CaseParty)) > 0
    # demo seizures name their office or crossing point from the demo reference lists
    refs = set(db.session.scalars(select(Case.place_ref).where(Case.kind == "seizure")))
    assert refs and None not in refs
    assert all(r.split(":")[0] in ("crossing", "office") for r in refs)
    load_case_demo({"small": True})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Case)) == count
