"""Issue 19 item 7: Watch on the entity page, Save this search on the results page, neither
asking for an internal number."""

from sqlalchemy import select

from app.alerts.models import SavedSearch, Watch
from tests.intel.factories import entity, officer


def test_watch_button_watches_the_entity_as_the_user(client, login_as, make, db):
    user = login_as("intelligence_officer")
    _, actor = officer(make, user.unit)
    target = entity(actor, "Adriatic Star Shipping")
    db.session.commit()
    page = client.get(f"/intel/entities/{target.id}").get_data(as_text=True)
    assert 'id="watch-entity"' in page
    resp = client.post(f"/intel/entities/{target.id}/watch", follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "You now watch Adriatic Star Shipping" in html
    assert 'id="watching"' in html and 'id="watch-entity"' not in html
    db.session.rollback()
    watch = db.session.scalars(select(Watch)).one()
    assert (watch.entity_id, watch.owner_id, watch.kind) == (target.id, user.id, "entity")


def test_watch_of_an_entity_the_user_may_not_see_is_404(client, login_as, make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    secret = entity(actor_a, "Hidden Co", handling_code="C")
    db.session.commit()
    login_as("intelligence_officer", unit=unit_b)
    assert client.post(f"/intel/entities/{secret.id}/watch").status_code == 404
    db.session.rollback()
    assert db.session.scalars(select(Watch)).all() == []


def test_enforcement_officer_sees_no_watch_button(client, login_as, make, db):
    _, actor = officer(make)
    target = entity(actor, "Plain Co")
    db.session.commit()
    login_as("enforcement_officer")
    assert 'id="watch-entity"' not in client.get(f"/intel/entities/{target.id}").get_data(
        as_text=True
    )


def test_save_this_search_from_the_results(client, login_as, make, db):
    user = login_as("intelligence_officer")
    page = client.get("/search?q=adriatic+star").get_data(as_text=True)
    assert 'id="save-search"' in page
    assert 'name="query" value="adriatic star"' in page
    resp = client.post(
        "/alerts/searches",
        data={"name": "Search: adriatic star", "query": "adriatic star", "severity": "low"},
    )
    assert resp.status_code == 302
    db.session.rollback()
    saved = db.session.scalars(select(SavedSearch)).one()
    assert (saved.query, saved.owner_id) == ("adriatic star", user.id)
