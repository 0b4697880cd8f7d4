"""End to end in Chromium on a live server (issue 20): an administrator loads a small FtM
sanctions list through /admin/screening/; a declaration arrives by the API whose importer's
name is a transliterated variant of a listed company; it goes red with the list entry named
on its page; the sanctions desk receives the alert; an analyst judges a second hit (a
namesake seller) a false positive on the hits page, and a new declaration with the same
seller produces no new hit and no new alert."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.risk.models import Declaration
from app.screening.hits import ScreeningHit
from tests.risk import factories as rf
from tests.screening.factories import record_hits

pytestmark = pytest.mark.browser

LIST = "EU sanctions (sample)"
ENTRIES = [
    {
        "id": "eu-stroy",
        "schema": "Company",
        "properties": {"name": ["ООО Стройтехимпорт"], "country": ["ru"]},
    },
    {
        "id": "eu-acme",
        "schema": "Company",
        "properties": {"name": ["Acme Dual Use Trading FZE"], "country": ["ae"]},
    },
    {
        "id": "eu-sidorov",
        "schema": "Person",
        "properties": {"name": ["Иван Петрович Сидоров"], "birthDate": ["1971-04-02"]},
    },
]
STROY = {"role": "importer", "name": "Stroytekhimport LLC", "kind": "company", "country": "RU"}
# a namesake: the same words, a different company (the analyst knows it)
ACME_NAMESAKE = {"role": "seller", "name": "ACME Dual-Use Trading", "kind": "company"}


def _post(base_url, token, body):
    request = urllib.request.Request(  # noqa: S310 - the local live server
        f"{base_url}/api/v1/declarations",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=20) as resp:  # noqa: S310
        return resp.status, json.loads(resp.read())


def _as(page, live_server, user):
    """A new browser context signed in as ``user`` (the page's browser, axe-audited)."""
    context = page.context.browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}
    )
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.goto("/login")
    pg.fill("#username", user.username)
    pg.fill("#password", "correct horse battery")
    pg.click("button[type=submit]")
    pg.wait_for_url("**/")
    return pg


def test_listed_importer_goes_red_desk_alerted_false_positive_does_not_fire_again(
    page, sign_in, make, db, live_server, tmp_path
):
    admin = make.user(roles=["administrator"])
    desk = make.unit(code="SANC", name="Sanctions desk")
    desk_officer = make.user(roles=["intelligence_officer"], unit=desk)
    analyst = make.user(roles=["risk_analyst"])
    rf.no_random()
    rf.profile(
        name="Party on sanctions list",
        conditions=rf.tree(rf.cond("party_on_list", "on_any", [LIST])),
        channel="red",
        is_sensitive=True,
        instructions="Hold the goods; the sanctions desk confirms or clears the match.",
        recipients={"units": [desk.id]},
    )
    _, token = make.api_client(["declarations:write", "declarations:read"])
    db.session.commit()

    # 1. the administrator loads the list through the admin page
    list_file = tmp_path / "eu-sample.ftm.json"
    list_file.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in ENTRIES))
    sign_in(admin)
    page.goto("/admin/screening/")
    form = page.locator("form#screening-load")
    form.locator("input[name=file]").set_input_files(str(list_file))
    form.locator("input[name=name]").fill(LIST)
    form.locator("input[name=source]").fill("EU FSF")
    form.locator("input[name=version_date]").fill("2026-12-01")
    form.get_by_role("button", name="Load").click()
    expect(page.locator("#version-summary")).to_contain_text("3 added")

    # 2. a declaration arrives: transliterated listed importer + a namesake seller
    status, first = _post(
        live_server,
        token,
        rf.body("SCR-E2E-1", parties=[STROY, ACME_NAMESAKE]),
    )
    assert status == 201
    assert first["channel"] == "red"
    matched = {m["entry_id"]: m for m in first["screening"]["matches"]}
    assert set(matched) == {"eu-stroy", "eu-acme"}
    # the worker writes the hits moments later (its risk-screening-hits job); the test's
    # session first ends its read snapshot to see the server's writes
    db.session.rollback()
    record_hits()

    # 3. the sanctions desk: the alert, and the declaration page naming the list entry
    desk_page = _as(page, live_server, desk_officer)
    desk_page.goto("/alerts/")
    expect(desk_page.locator("body")).to_contain_text("Party on sanctions list")
    desk_page.goto(f"/risk/declarations/{first['id']}")
    expect(desk_page.locator("#decl-channel")).to_have_text("red")
    screening = desk_page.locator("#decl-screening")
    expect(screening).to_contain_text("ООО Стройтехимпорт")
    expect(screening).to_contain_text("eu-stroy")
    expect(screening).to_contain_text(LIST)
    expect(screening).to_contain_text("name tokens")
    desk_page.context.close()

    # 4. the analyst judges the namesake seller's hit a false positive
    analyst_page = _as(page, live_server, analyst)
    analyst_page.goto("/screening/hits")
    row = analyst_page.locator("#screening-hits tr", has_text="ACME Dual-Use Trading")
    row.get_by_role("link").click()
    expect(analyst_page.locator("#hit-entry")).to_contain_text("eu-acme")
    analyst_page.select_option("#verdict", "false_positive")
    analyst_page.fill("#note", "Registered in Cyprus, not the listed FZE")
    analyst_page.get_by_role("button", name="Record judgement").click()
    expect(analyst_page.locator("#hit-judgements")).to_contain_text("False positive")
    analyst_page.context.close()

    # 5. the same seller again: no new hit, no new alert, not red
    db.session.rollback()
    hits_before = db.session.scalar(select(func.count(ScreeningHit.id)))
    alerts_before = db.session.scalar(select(func.count(Alert.id)))
    quiet_importer = {"role": "importer", "name": "Northwind Traders Ltd", "kind": "company"}
    status, second = _post(
        live_server, token, rf.body("SCR-E2E-2", parties=[quiet_importer, ACME_NAMESAKE])
    )
    assert status == 201
    assert second["channel"] == "green"
    assert second["screening"]["matches"] == []
    assert second["screening"]["cleared"] == 1
    db.session.rollback()
    record_hits()
    assert db.session.scalar(select(func.count(ScreeningHit.id))) == hits_before
    assert db.session.scalar(select(func.count(Alert.id))) == alerts_before
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "SCR-E2E-2"))
    assert decl.channel == "green"
