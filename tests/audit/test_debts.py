"""Audit debts by kind (issue 18): append-only lines, totals, the case's assessed debt, the
audit case list."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit import debts
from app.audit.models import AuditDebt
from app.core.errors import ValidationError
from app.security.access import Actor, NotFound


def _audit_case(make, unit, handling_code="P"):
    from app.cases import service as cases
    from app.intel import service as intel

    entity = intel.ensure_organisation(
        "trader_code", "IMP-DEBT", "Debtor Trading Ltd", actor=Actor.system("test")
    )
    auditor = make.actor(make.user(roles=["pca_auditor"], unit=unit))
    case = cases.open_audit_case(
        entity.id,
        actor=auditor,
        risk_areas=["valuation"],
        period_start=date(2026, 4, 1),
        period_end=date(2026, 6, 30),
        unit_id=unit.id,
    )
    if handling_code != "P":
        cases.update_case(case.id, actor=auditor, handling_code=handling_code)
    return case, auditor


def test_debts_by_kind_add_up_and_set_the_assessed_debt(db, make):
    case, auditor = _audit_case(make, make.unit())
    debts.record_debt(case.id, actor=auditor, kind="customs_duty", amount="1000.50")
    debts.record_debt(case.id, actor=auditor, kind="vat", amount="200")
    debts.record_debt(case.id, actor=auditor, kind="customs_duty", amount="99.50")
    debts.record_debt(case.id, actor=auditor, kind="penalty", amount="-50", note="appeal won")
    totals = debts.debts_by_case([case.id])[case.id]
    assert totals["customs_duty"] == Decimal("1100.00")
    assert totals["vat"] == Decimal("200")
    assert totals["penalty"] == Decimal("-50")
    assert totals["total"] == Decimal("1250.00")
    assert case.assessed_debt == Decimal("1250.00")
    assert len(db.session.scalars(select(AuditDebt)).all()) == 4  # corrections are new rows
    assert "assessed debt now 1,250.00" in case.journal[-1].text


def test_bad_debts_name_the_field(db, make):
    case, auditor = _audit_case(make, make.unit())
    for kind, amount, note, field in (
        ("smuggling", "10", None, "kind"),
        ("vat", "ten", None, "amount"),
        ("vat", "NaN", None, "amount"),
        ("vat", "1e20", None, "amount"),
        ("vat", "0", None, "amount"),
        ("vat", "1.234", None, "amount"),
        ("vat", "-5", None, "note"),
    ):
        with pytest.raises(ValidationError) as err:
            debts.record_debt(case.id, actor=auditor, kind=kind, amount=amount, note=note)
        assert field in err.value.fields, (kind, amount)
    assert not db.session.scalars(select(AuditDebt)).all()


def test_debts_need_an_audit_case_the_actor_may_edit(db, make):
    from app.cases import service as cases

    unit = make.unit()
    case, auditor = _audit_case(make, unit, handling_code="C")
    outsider = make.actor(make.user(roles=["pca_auditor"], unit=make.unit()))
    with pytest.raises(NotFound):
        debts.record_debt(case.id, actor=outsider, kind="vat", amount="10")
    seizure = cases.open_case("seizure", actor=auditor, title="Not an audit", unit_id=unit.id)
    with pytest.raises(ValidationError):
        debts.record_debt(seizure.id, actor=auditor, kind="vat", amount="10")


def test_audit_case_list_and_page(db, client, make):
    unit = make.unit()
    case, _auditor = _audit_case(make, unit)
    user = make.user(roles=["pca_auditor"], unit=unit)
    db.session.commit()
    make.sign_in(client, user)
    page = client.get(f"/audit/cases/{case.id}").get_data(as_text=True)
    assert "2026-04-01 – 2026-06-30" in page and "Debtor Trading Ltd" in page
    resp = client.post(
        f"/audit/cases/{case.id}/debts",
        data={"kind": "excise", "amount": "300.25"},
        follow_redirects=True,
    )
    assert "Debt recorded." in resp.get_data(as_text=True)
    bad = client.post(f"/audit/cases/{case.id}/debts", data={"kind": "vat", "amount": "-1"})
    assert "needs its reason" in bad.get_data(as_text=True)
    listing = client.get("/audit/cases").get_data(as_text=True)
    assert case.reference in listing and "Debtor Trading Ltd" in listing
    assert "Desk audit" in listing and "Valuation" in listing
    assert listing.count("300.25") >= 3  # excise column, assessed debt, page total
