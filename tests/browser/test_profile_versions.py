"""Change control of an active profile in a real Chromium (issue 17 item 4): an analyst edits
an active profile; declarations sent meanwhile through the API still hit the active version;
a second analyst approves the new version (four-eyes); declarations then hit the new one;
the history shows both and restores the first as a new draft."""

import io

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

HISTORY = (
    "number,declaration_date,office,importer,hs_code,origin_country,value,mass_kg,fraud\n"
    "H-1,2026-01-05,BCP-N,I1,0808100000,US,100,10,1\n"
    "H-2,2026-01-06,BCP-N,I1,0808100000,CN,100,10,0\n"
    "H-3,2026-01-07,BCP-N,I2,0808100000,CN,100,10,1\n"
)


def _send(page, live_server, token, number, origin):
    resp = page.request.post(
        f"{live_server}/api/v1/declarations",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "number": number,
            "date": "2026-03-01",
            "office": "BCP-N",
            "importer": "I9",
            "items": [{"hs_code": "0808100000", "origin": origin, "value": 500, "mass": 400}],
        },
    )
    assert resp.status == 201, resp.text()
    return resp.json()["channel"]


def _hit_versions(db, number):
    from app.risk.models import Declaration

    db.session.rollback()
    decl = db.session.scalar(select(Declaration).where(Declaration.number == number))
    return [p["version"] for p in decl.assessment["profiles"]]


def test_edit_active_profile_approve_by_second_analyst_and_restore(
    page, make, sign_in, db, live_server, live_app, monkeypatch
):
    from app.risk import engine
    from app.risk.importer import import_declarations
    from app.security.access import Actor
    from tests.risk.factories import cond, no_random, profile, tree

    monkeypatch.setitem(live_app.config, "TOLLGATE_PROFILE_FOUR_EYES", True)
    engine.reset_cache()
    import_declarations(io.StringIO(HISTORY), actor=Actor.system("test"))
    no_random()
    author = make.user(roles=["risk_analyst"])
    second = make.user(roles=["risk_analyst"])
    _, token = make.api_client(["declarations:write"])
    p = profile(
        conditions=tree(cond("hs_code", "prefix", ["0808"]), cond("origin", "eq", "US")),
        name="Apples",
    )
    first = p.version
    db.session.commit()

    sign_in(author)
    page.goto(f"/risk/profiles/{p.id}/edit")
    page.locator("#draft-note").wait_for()
    page.locator(".rule-condition").nth(1).locator(".rule-value").fill("CN")
    page.locator("#rule-sentence").filter(
        has_text="HS code starts with 0808 and country of origin is CN"
    ).wait_for()
    page.click("#save-profile")
    page.wait_for_url(f"**/risk/profiles/{p.id}")
    assert page.locator("#profile-status").inner_text() == "active"
    assert page.locator("#draft-state").inner_text() == "draft"

    # Meanwhile the declaration system's declarations still hit the active version.
    assert _send(page, live_server, token, "LIVE-1", "US") == "red"
    assert _send(page, live_server, token, "LIVE-2", "CN") == "green"
    assert _hit_versions(db, "LIVE-1") == [first]

    page.click("#simulate")
    page.locator("#simulation-results").wait_for()
    page.click("#back-to-profile")
    assert page.locator("#draft-state").inner_text() == "simulated"
    # Four-eyes: the author does not activate their own version.
    assert page.locator("#activate-draft").count() == 0
    assert page.locator("#awaiting-approval").count() == 1
    assert _send(page, live_server, token, "LIVE-3", "US") == "red"

    page.click("form[action$='/logout'] button")
    sign_in(second)
    page.goto(f"/risk/profiles/{p.id}")
    page.click("#activate-draft")
    page.locator("#draft-card").wait_for(state="detached")
    assert page.locator("#profile-status").inner_text() == "active"

    assert _send(page, live_server, token, "LIVE-4", "CN") == "red"
    assert _send(page, live_server, token, "LIVE-5", "US") == "green"
    db.session.rollback()
    db.session.refresh(p)
    new = p.version
    assert new > first and _hit_versions(db, "LIVE-4") == [new]

    history = page.locator("#profile-versions")
    assert history.locator(f'tr[data-version="{first}"]').count() == 1
    firing = history.locator(f'tr[data-version="{new}"]')
    assert "firing" in firing.inner_text() and second.username in firing.inner_text()
    history.locator(f'tr[data-version="{first}"] a').click()
    assert "country of origin is US" in page.locator(".rule-sentence").inner_text()
    page.click("#restore-version")
    page.wait_for_url(f"**/risk/profiles/{p.id}")
    assert page.locator("#draft-state").inner_text() == "draft"
    assert f"restored from version {first}" in page.locator("#draft-card").inner_text()
    assert "country of origin is US" in page.locator("#draft-card").inner_text()
    # Restoring is a draft: the new version keeps firing.
    assert _send(page, live_server, token, "LIVE-6", "CN") == "red"
