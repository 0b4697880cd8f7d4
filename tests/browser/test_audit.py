"""Post-clearance audit selection in a real Chromium (issue 18): the auditor sets the capacity
for a past quarter, the proposal ranks by expected findings with its factors, confirming opens
audit cases on that quarter with its declarations linked and a desk review first, and the
debts recorded by kind show on the case list."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.audit import service
from app.audit.models import AuditSelection
from app.audit.views import last_quarter
from app.core.time import now_utc
from app.security.access import Actor
from tests.audit.factories import import_rows, kcs_row

pytestmark = pytest.mark.browser


def _history_and_period(db):
    """12 importers: a history before the last quarter (IMP-00 worst ... IMP-11 clean) and
    three scored declarations each in the quarter; one of IMP-11's scores 0.97."""
    from app.risk.models import Declaration

    start, end = last_quarter(now_utc().date())
    rows, scores = [], {}
    for t in range(12):
        for i in range(8):
            rows.append(
                kcs_row(
                    day=start - timedelta(days=150 - i * 9 - t),
                    importer=f"IMP-{t:02d}",
                    fraud=i < max(0, 8 - t),
                )
            )
        for i in range(3):
            number = f"Q{t:02d}{i}"
            rows.append(
                kcs_row(
                    day=start + timedelta(days=i * 25 + t), importer=f"IMP-{t:02d}", number=number
                )
            )
            scores[number] = 0.97 if (t == 11 and i == 0) else max(0.02, 0.3 - 0.02 * t)
    import_rows(rows)
    for number, score in scores.items():
        db.session.execute(
            update(Declaration).where(Declaration.number == number).values(ml_score=score)
        )
    service.compute_ratings(actor=Actor.system("test"), as_of=end)
    db.session.commit()
    return start, end


def test_auditor_selects_a_past_quarter_and_records_debts(page, make, sign_in, db):
    unit = make.unit(code="PCA-1", name="Post-clearance audit")
    auditor = make.user(roles=["pca_auditor"], unit=unit)
    start, end = _history_and_period(db)

    sign_in(auditor)
    page.goto("/audit/selection/new")
    # The default audited period is the last full quarter, in the past.
    assert page.input_value("#period_start") == start.isoformat()
    assert page.input_value("#period_end") == end.isoformat()
    page.fill("#capacity", "4")
    page.fill("#random_share", "0.25")
    page.click("text=Propose traders")
    page.wait_for_url("**/audit/selection/*")

    assert page.locator("#chosen-count").inner_text() == "4"
    assert page.locator("tr.reason-random").count() == 1
    assert page.locator("tr.reason-expected").count() == 3
    first = page.locator("tr.reason-expected").first
    # Ranked by expected findings: the clean-history trader with one very risky declaration.
    assert first.get_attribute("data-code") == "IMP-11"
    factors = first.locator("td.factors").inner_text()
    assert "rank 1 of 12 by expected findings" in factors
    assert "1 of 3 declarations in the period score high" in factors
    assert "revenue at stake" in factors and "exposure: 3 declarations" in factors
    chances = [
        float(t.rstrip("%"))
        for t in page.locator("tr.reason-expected td.p-finding").all_inner_texts()
    ]
    assert chances[0] == max(chances)
    first_line = first.get_attribute("data-line")
    page.select_option(f'select[name="areas-{first_line}"]', ["valuation", "origin"])
    page.click("#confirm-button")
    page.wait_for_selector("text=4 audit cases opened.")

    # The case: the audited quarter, its declarations, a desk review first, the checklist.
    page.locator(f'tr[data-line="{first_line}"] a[href^="/audit/cases/"]').click()
    page.wait_for_url("**/audit/cases/*")
    assert page.inner_text("#audited-period") == f"{start} – {end}"
    assert page.inner_text("#linked-declarations") == "3 linked"
    assert page.locator("#tasks li").first.inner_text().startswith("Desk review")
    checklist = page.inner_text("#checklist")
    assert "Valuation:" in checklist and "Origin:" in checklist
    assert "Classification:" not in checklist

    page.select_option("#kind", "customs_duty")
    page.fill("#amount", "1000")
    page.click("text=Record debt")
    page.wait_for_selector("text=Debt recorded.")
    page.select_option("#kind", "vat")
    page.fill("#amount", "190.50")
    page.click("text=Record debt")
    page.wait_for_selector("#debt-total")
    assert page.inner_text("#debt-total") == "1,190.50"

    case_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.goto("/audit/cases")
    row = page.locator(f'table.audit-cases tbody tr[data-case="{case_id}"]')
    assert row.locator("td.debt-total").inner_text() == "1,190.50"
    assert page.inner_text("#page-total") == "1,190.50"
    assert f"{start} – {end}" in row.inner_text() and "Desk audit" in row.inner_text()

    db.session.rollback()
    selection = db.session.scalars(select(AuditSelection)).one()
    assert selection.status == "confirmed"
    assert (selection.period_start, selection.period_end) == (start, end)
