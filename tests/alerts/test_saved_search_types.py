"""Issue 19: "Save this search" keeps the results page's type filter (it saved the words
only, so a search over entities raised alerts for every case and report that matched)."""

from sqlalchemy import select

from app.alerts.models import SavedSearch


def test_the_save_form_carries_the_type_filter(client, login_as):
    login_as("intelligence_officer")
    page = client.get("/search?q=adriatic+star&type=entity").get_data(as_text=True)
    form = page.split('id="save-search"', 1)[1].split("</form>", 1)[0]
    assert 'name="record_types" value="entity"' in form
    unfiltered = client.get("/search?q=adriatic+star").get_data(as_text=True)
    assert (
        'name="record_types"' not in unfiltered.split('id="save-search"', 1)[1].split("</form>")[0]
    )


def test_the_saved_search_keeps_its_types(client, login_as, db):
    user = login_as("intelligence_officer")
    resp = client.post(
        "/alerts/searches",
        data={
            "name": "Search: adriatic star",
            "query": "adriatic star",
            "severity": "low",
            "record_types": ["entity", "report"],
        },
    )
    assert resp.status_code == 302
    db.session.rollback()
    saved = db.session.scalars(select(SavedSearch)).one()
    assert (saved.owner_id, sorted(saved.record_types)) == (user.id, ["entity", "report"])


def test_an_unknown_type_is_refused_naming_the_field(client, login_as, db):
    login_as("intelligence_officer")
    resp = client.post(
        "/alerts/searches",
        data={"name": "x", "query": "adriatic", "severity": "low", "record_types": "bogus"},
        follow_redirects=True,
    )
    assert "record types" in resp.get_data(as_text=True).replace("_", " ")
    db.session.rollback()
    assert db.session.scalars(select(SavedSearch)).all() == []
