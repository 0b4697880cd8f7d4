"""Issue 19 item 9 for risk: every targeting KPI opens the declarations behind it (the
declaration list with the figure's filters), and the KPIs export as CSV with a justification,
trailed. Counts and rows cover only declarations the reader may open: the per-profile figures
counted every unit's hits before; a code-C declaration of another unit (its number a sentinel)
is neither counted, listed nor exported."""

import re
from html import unescape

from sqlalchemy import select

from app.core.time import now_utc
from app.risk.assessment import submit_declaration
from app.security.trail import AccessEvent
from tests.risk.factories import body, no_random, profile

SENTINEL = "SENTINEL-KPI-9Z"
# declarations dated in March; their profile hits are dated when assessed (today)
PERIOD = f"since=2026-03-01&until={now_utc().date()}&by=month"


def _world(make, db, login_as):
    unit_a, unit_b = make.unit(), make.unit()
    reader = login_as("risk_analyst", unit=unit_a)
    analyst_b = make.actor(make.user(roles=["risk_analyst"], unit=unit_b))
    no_random()
    hit = profile(name="Phones")
    mine = make.actor(reader)
    for n in range(2):
        submit_declaration(body(f"KPI-A-{n}"), actor=mine, unit_id=unit_a.id)
    submit_declaration(body("KPI-A-GREEN", items=[_item_other()]), actor=mine, unit_id=unit_a.id)
    theirs = submit_declaration(body(SENTINEL), actor=analyst_b, unit_id=unit_b.id)
    theirs.handling_code = "C"
    db.session.commit()
    return hit


def _item_other():
    from tests.risk.factories import item

    return item(hs_code="0808100000")


def _listed(client, url) -> set[str]:
    page = client.get(url).get_data(as_text=True)
    return set(re.findall(r"KPI-A-[A-Z0-9]+|" + SENTINEL, page))


def test_kpis_link_to_exactly_their_visible_declarations(client, login_as, make, db):
    hit = _world(make, db, login_as)
    page = client.get(f"/risk/kpis?{PERIOD}").get_data(as_text=True)
    assert SENTINEL not in page
    total = re.search(r'id="kpi-total"><a href="([^"]+)">(\d+)<', page)
    assert total.group(2) == "3"  # the other unit's code-C declaration is not counted
    assert _listed(client, unescape(total.group(1))) == {"KPI-A-0", "KPI-A-1", "KPI-A-GREEN"}
    red = re.search(r'href="([^"]*channel=red[^"]*)">(\d+)<', page)
    assert red.group(2) == "2"
    assert _listed(client, unescape(red.group(1))) == {"KPI-A-0", "KPI-A-1"}
    hits = re.search(rf'href="([^"]*profile={hit.id}[^"]*)">(\d+)<', page)
    assert hits.group(2) == "2"  # was 3: every unit's hits were counted
    assert _listed(client, unescape(hits.group(1))) == {"KPI-A-0", "KPI-A-1"}


def test_kpi_export_needs_a_justification_is_trailed_and_names_no_declaration(
    client, login_as, make, db
):
    _world(make, db, login_as)
    resp = client.post(f"/risk/kpis/export?{PERIOD}", data={"justification": ""})
    assert resp.status_code == 302 and resp.mimetype != "text/csv"
    resp = client.post(f"/risk/kpis/export?{PERIOD}", data={"justification": "Board report"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("figure,group,declarations,inspected,found,revenue,since,until")
    assert "all declarations,,3," in text and "per channel,red,2," in text
    assert "per profile," in text and ",2,0,0,0.0,2026-03-01" in text
    assert SENTINEL not in text and "KPI-A-0" not in text
    event = db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.action == "export", AccessEvent.record_type == "declaration"
        )
    ).one()
    assert event.justification == "Board report" and event.query.startswith("targeting KPIs")
