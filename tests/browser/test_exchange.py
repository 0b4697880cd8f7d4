"""The chart page's 'Export as FollowTheMoney' sends the chart's entities and the
justification, and the browser receives the FtM file (a real Chromium, CSRF on)."""

import json
from pathlib import Path

import pytest

from app.intel import service

pytestmark = pytest.mark.browser


def test_the_chart_exports_as_followthemoney(page, make, sign_in, db):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    firm = service.create_entity(
        "organisation", "Balkan Trading LLC", actor=actor, identifiers={"eori": "XK100200300"}
    )
    director = service.create_entity("person", "Arben Krasniqi", actor=actor)
    service.add_link(director.id, firm.id, "director_of", actor=actor, grade="1A")
    db.session.commit()
    sign_in(user)
    page.goto(f"/intel/chart?entity={firm.id}")
    page.wait_for_selector("#expand-status:has-text('Showing 1 of 1 links')")
    page.fill("#export-form input[name=justification]", "FIU request 12/2026")
    with page.expect_download() as info:
        page.click("#export-ftm")
    download = info.value
    assert download.suggested_filename == "tollgate-chart.ftm.jsonl"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = [json.loads(x) for x in text.splitlines()]
    assert sorted(r["schema"] for r in rows) == [
        "Company",
        "Directorship",
        "Identification",
        "Person",
    ]
    assert next(r for r in rows if r["schema"] == "Directorship")["grade"] == "1A"
