"""A risk analyst writes a profile in the graphical editor, simulates it, activates it and
sees it fire on a declaration sent through the API — in a real Chromium."""

import io

import pytest

pytestmark = pytest.mark.browser

HISTORY = (
    "number,declaration_date,office,importer,hs_code,origin_country,value,mass_kg,fraud\n"
    "H-1,2026-01-05,BCP-N,I1,0808100000,US,100,10,1\n"
    "H-2,2026-01-06,BCP-N,I1,0808100000,US,100,10,0\n"
    "H-3,2026-01-07,BCP-N,I2,0808100000,CN,100,10,1\n"
    "H-4,2026-01-08,BCP-N,I2,8517620000,US,100,10,0\n"
)


def test_write_simulate_activate_and_fire(page, make, sign_in, db, live_server):
    from app.risk import engine
    from app.risk.importer import import_declarations
    from app.risk.settings import set_rates
    from app.security.access import Actor

    engine.reset_cache()
    import_declarations(io.StringIO(HISTORY), actor=Actor.system("test"))
    set_rates(
        {
            c: {"target_rate": 0.05, "min_random_rate": 0.0}
            for c in ("blue", "yellow", "orange", "red")
        },
        actor=Actor.system("test"),
    )
    analyst = make.user(roles=["risk_analyst"])
    _, token = make.api_client(["declarations:write"])
    sign_in(analyst)

    page.goto("/risk/profiles/new")
    page.fill("#name", "Apples from the US")
    page.fill("#risk_area", "False origin of apples")
    page.select_option("#channel", "red")
    page.fill("#instructions", "Check the phytosanitary certificate.")
    page.click(".rule-add-condition")
    first = page.locator(".rule-condition").nth(0)
    first.locator(".rule-field").select_option("hs_code")
    first.locator(".rule-op").select_option("prefix")
    first.locator(".rule-value").fill("0808")
    page.click(".rule-add-condition")
    second = page.locator(".rule-condition").nth(1)
    second.locator(".rule-field").select_option("origin")
    second.locator(".rule-op").select_option("eq")
    second.locator(".rule-value").fill("US")
    sentence = page.locator("#rule-sentence")
    sentence.filter(has_text="HS code starts with 0808 and country of origin is US").wait_for()
    page.click("#save-profile")
    page.wait_for_url("**/risk/profiles/*")
    assert page.locator("#profile-status").inner_text() == "draft"
    assert page.locator("#to-active").count() == 0  # not simulated: cannot be activated

    page.click("#simulate")
    results = page.locator("#simulation-results")
    results.wait_for()
    assert results.locator('td[data-key="selected"]').inner_text() == "2"
    assert results.locator('td[data-key="hit_rate"]').inner_text() == "50.0%"
    page.click("#back-to-profile")
    assert page.locator("#profile-status").inner_text() == "simulated"
    page.click("#to-active")
    page.locator("#profile-status", has_text="active").wait_for()

    resp = page.request.post(
        f"{live_server}/api/v1/declarations",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "number": "LIVE-1",
            "date": "2026-03-01",
            "office": "BCP-N",
            "importer": "I9",
            "items": [{"hs_code": "0808100000", "origin": "US", "value": 500, "mass": 400}],
        },
    )
    assert resp.status == 201, resp.text()
    assert resp.json()["channel"] == "red"
    decl_id = resp.json()["id"]

    page.goto(f"/risk/declarations/{decl_id}")
    assert page.locator("#decl-channel").inner_text().lower() == "red"
    assert "Apples from the US" in page.content()
    page.goto("/risk/profiles")
    row = page.locator("tr", has_text="Apples from the US")
    assert row.locator("td").nth(5).inner_text() == "1"  # one live hit
