"""Issue 19 item 7 in a real Chromium: an intelligence officer watches an entity from its
page and saves a search from the results, typing no internal number."""

import pytest
from sqlalchemy import select

from app.alerts.models import SavedSearch, Watch
from app.intel import service
from app.search import service as search

pytestmark = pytest.mark.browser


def test_watch_from_the_entity_page_and_save_a_search(page, make, sign_in, db, tmp_path):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    ship = service.create_entity("vessel", "MV Adriatic Star", actor=actor)
    db.session.commit()
    search.apply_index_queue()
    sign_in(user)

    page.goto("/search")
    page.fill("#search-q", "Adriatic Star")
    page.click("#search-form button[type=submit]")
    page.click(".search-hit a.hit-title:has-text('MV Adriatic Star')")
    page.wait_for_url(f"**/intel/entities/{ship.id}")
    page.click("#watch-entity")
    page.wait_for_selector("#watching")
    assert "You now watch MV Adriatic Star" in page.content()
    page.screenshot(path=str(tmp_path / "h11-1-entity-watched.png"), full_page=True)

    page.goto("/search?q=Adriatic+Star")
    page.click("#save-search button[type=submit]")
    page.wait_for_selector("text=Search saved")
    page.screenshot(path=str(tmp_path / "h11-2-search-saved.png"), full_page=True)

    db.session.rollback()
    watch = db.session.scalars(select(Watch)).one()
    assert (watch.entity_id, watch.owner_id) == (ship.id, user.id)
    saved = db.session.scalars(select(SavedSearch)).one()
    assert (saved.query, saved.owner_id) == ("Adriatic Star", user.id)
