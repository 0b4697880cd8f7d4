"""Search a misspelled company, open it, expand its links, find the path to a person named
in a seizure and save the chart to that case, in a real Chromium."""

import pytest

from app.intel import service
from app.intel.models import SavedChart
from app.search import service as search

pytestmark = pytest.mark.browser


def _network(actor):
    company = service.create_entity(
        "organisation", "Balkan Trading LLC", actor=actor, identifiers={"eori": "XK100200300"}
    )
    director = service.create_entity("person", "Arben Krasniqi", actor=actor)
    phone = service.create_entity(
        "phone", "+38344123456", actor=actor, identifiers={"phone": "+38344123456"}
    )
    other = service.create_entity("organisation", "Beta Cargo", actor=actor)
    service.create_entity("organisation", "Balkan Textiles", actor=actor)
    service.add_link(director.id, company.id, "director_of", actor=actor, grade="1A")
    service.add_link(director.id, phone.id, "uses_phone", actor=actor)
    service.add_link(other.id, phone.id, "uses_phone", actor=actor)
    return company, other


def test_search_chart_path_and_save_to_case(page, make, sign_in, db):
    from app.cases import parties
    from app.cases import service as cases

    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    company, other = _network(actor)
    case = cases.open_case("seizure", actor=actor, title="Cigarettes behind a false wall")
    suspect = parties.add_party(
        case.id, actor=actor, role="suspect", new_entity={"type": "person", "name": "Driton Morina"}
    )
    service.add_link(suspect.entity_id, other.id, "director_of", actor=actor)
    db.session.commit()
    search.apply_index_queue()
    sign_in(user)

    # 1. a misspelled company name finds it
    page.goto("/search")
    page.fill("#search-q", "Balkn Tradng")
    page.click("#search-form button[type=submit]")
    hit = page.locator(".search-hit a.hit-title", has_text="Balkan Trading LLC")
    hit.click()
    page.wait_for_url(f"**/intel/entities/{company.id}")

    # 2. open the link chart: the company's links are expanded
    page.click("#open-chart")
    page.wait_for_selector("#expand-status:has-text('Showing 1 of 1 links')")
    assert page.evaluate("window.TollgateChart.nodes().length") == 2

    # 3. the path to the person named in the seizure
    page.fill("#path-to", "Driton")
    page.click(".picker-item:has-text('Driton Morina')")
    page.click("#btn-path")
    status = page.locator("#path-status.path-found")
    status.wait_for()
    assert status.inner_text() == (
        "Path of 4 links: Balkan Trading LLC → Arben Krasniqi → "
        "+38344123456 → Beta Cargo → Driton Morina"
    )
    assert page.evaluate("window.TollgateChart.elements('.path').length") == 9

    # 4. save the chart in the seizure case
    page.fill("#save-case", "false wall")  # the case is picked by its title, not its number
    page.click(".picker-item:has-text('Cigarettes behind a false wall')")
    page.fill("#save-title", "Route to the driver")
    page.click("#btn-save")
    page.wait_for_selector("#save-status.saved")
    db.session.rollback()
    chart = db.session.query(SavedChart).one()
    assert chart.case_id == case.id and chart.title == "Route to the driver"
    assert suspect.entity_id in chart.elements["nodes"] and len(chart.elements["nodes"]) == 5
    assert len(chart.elements["positions"]) == 5

    # 5. the saved chart opens again, laid out as saved
    page.goto(f"/intel/chart?chart={chart.id}")
    page.wait_for_selector("#expand-status:has-text('Route to the driver')")
    assert page.evaluate("window.TollgateChart.nodes().length") == 5
