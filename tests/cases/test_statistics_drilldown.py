"""Issue 19 item 9 for cases: every figure of the case statistics opens the cases behind it
(the case list with the figure's filters), and the statistics export as CSV with a
justification, trailed. Counts and rows cover only cases the reader may open: a code-C case
of another unit (its title and place a sentinel) is neither counted, listed nor exported."""

import re
from html import unescape

from sqlalchemy import select

from app.cases import service
from app.security.trail import AccessEvent
from tests.cases.factories import seizure

SENTINEL = "SENTINEL-CASE-STATS-7Q"


def _links(page: str) -> dict[str, str]:
    return {
        unescape(m.group(1)): m.group(2)
        for m in re.finditer(r'<a href="([^"]+)"[^>]*>(?:<text[^>]*>)?([^<]+)<', page)
    }


def _rows(client, url) -> list[str]:
    page = client.get(url).get_data(as_text=True)
    return re.findall(r'href="/cases/(\d+)"', page)


def _world(make, db, login_as):
    unit_a, unit_b = make.unit(), make.unit()
    reader = login_as("supervisor", unit=unit_a)
    mine = make.actor(reader)
    theirs = make.actor(make.user(roles=["supervisor"], unit=unit_b))
    seizure(mine, title="Ours at Merdare", place="BCP Merdare")
    seizure(
        mine,
        title="Heroin at Merdare",
        place="BCP Merdare",
        items=[{"commodity_area": "drugs", "description": "Heroin", "value": "50000"}],
    )
    seizure(theirs, title=SENTINEL, place="BCP Merdare", handling_code="C")
    seizure(theirs, title=SENTINEL + " place", place=SENTINEL, handling_code="C")
    open_offence = service.open_case("offence", actor=mine, title="Awaiting a decision")
    db.session.commit()
    return reader, open_offence


def test_each_figure_links_to_exactly_its_visible_cases(client, login_as, make, db):
    _reader, open_offence = _world(make, db, login_as)
    page = client.get("/cases/statistics").get_data(as_text=True)
    assert SENTINEL not in page
    total = re.search(r'id="kpi-seizures" href="([^"]+)">(\d+)<', page)
    assert total.group(2) == "2"  # the other unit's code-C seizures are not counted
    assert len(_rows(client, unescape(total.group(1)))) == 2
    tobacco = re.search(
        r'href="([^"]*area=tobacco[^"]*)"[^>]*aria-label="Tobacco[^:]*: (\d+)', page
    )
    assert tobacco.group(2) == "1"
    assert len(_rows(client, unescape(tobacco.group(1)))) == 1
    place = re.search(
        r'href="([^"]*place_is=BCP\+Merdare[^"]*)"[^>]*aria-label="[^:]*: (\d+)', page
    )
    assert place.group(2) == "2"
    assert len(_rows(client, unescape(place.group(1)))) == 2
    pending = re.search(r'href="([^"]*decision=pending[^"]*)">(\d+)<', page)
    assert pending.group(2) == "1"
    assert _rows(client, unescape(pending.group(1))) == [str(open_offence.id)]
    month = re.search(
        r'href="([^"]*/cases/seizures\?since=[^"]*)"[^>]*aria-label="[^:]*: 2 seizures', page
    )
    assert len(_rows(client, unescape(month.group(1)))) == 2


def test_export_needs_a_justification_is_trailed_and_names_no_case(client, login_as, make, db):
    _world(make, db, login_as)
    resp = client.post("/cases/statistics/export", data={"justification": ""})
    assert resp.status_code == 302 and resp.mimetype != "text/csv"
    resp = client.post(
        "/cases/statistics/export?months=12", data={"justification": "Quarterly report to RILO"}
    )
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("figure,group,cases,value_eur,since,until")
    assert "seizures,,2," in text  # the visible seizures only
    assert "seizures by place,BCP Merdare,2," in text
    assert SENTINEL not in text and "Ours at Merdare" not in text  # figures, no case named
    event = db.session.scalars(
        select(AccessEvent).where(AccessEvent.action == "export", AccessEvent.record_type == "case")
    ).one()
    assert event.justification == "Quarterly report to RILO"
    assert event.query.startswith("case statistics")
