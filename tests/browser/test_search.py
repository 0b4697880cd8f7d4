"""In a real Chromium: a seizure found by a misspelled commodity, an entity by an identifier
typed with spaces and dashes (issue 22)."""

import pytest

from app.intel import service as intel
from app.search import service as search
from tests.cases.factories import seizure

pytestmark = pytest.mark.browser


def _search(page, query):
    page.goto("/search")
    page.fill("#search-q", query)
    page.click("#search-form button[type=submit]")


def test_misspelled_commodity_and_spaced_identifier(page, make, sign_in, db):
    user = make.user(roles=["intelligence_officer", "enforcement_officer"])
    actor = make.actor(user)
    case = seizure(
        actor,
        title="Parcels at the airport",
        items=[
            {
                "commodity_area": "ipr",
                "hs_code": "640411",
                "description": "Counterfeit sports shoes",
                "quantity": "400",
                "quantity_unit": "pcs",
                "value": "12000",
            }
        ],
    )
    seizure(actor, title="Cigarettes under the floor")
    container = intel.create_entity(
        "container", "MSCU1234566", actor=actor, identifiers={"container": "MSCU1234566"}
    )
    intel.create_entity(
        "container", "TGHU7654320", actor=actor, identifiers={"container": "TGHU7654320"}
    )
    db.session.commit()
    search.apply_index_queue()
    sign_in(user)

    # 1. a misspelled commodity finds the seizure (its title does not name it)
    _search(page, "counterfiet shoes")
    hits = page.locator(".search-hit a.hit-title")
    assert hits.count() == 1
    hits.first.click()
    page.wait_for_url(f"**/cases/{case.id}")
    assert "Parcels at the airport" in page.content()

    # 2. a container number typed with spaces and a dash finds the entity, and only it
    _search(page, "MSCU 123456-6")
    hits = page.locator(".search-hit a.hit-title")
    assert hits.count() == 1
    hits.first.click()
    page.wait_for_url(f"**/intel/entities/{container.id}")
    assert "MSCU1234566" in page.content()
