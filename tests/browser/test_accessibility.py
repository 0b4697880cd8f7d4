"""WCAG 2.1 AA by check: axe-core in Chromium on the key pages of each role, over the demo data.

Every browser test already runs axe-core on each page it opens (tests/browser/axe.py, hooked
in by the ``page`` fixture). This test makes sure the pages that matter most are among them,
filled as in use (``tollgate demo load --small``), and checks each once its scripts have drawn
(the network chart, the live alert list): no serious or critical violation on any of them.
"""

import re

import pytest

from app.security.demo import demo_password
from tests.browser.axe import violations_now

pytestmark = pytest.mark.browser

#: role (demo account) -> pages: a path, or (list path, pattern of the first link to follow)
PAGES = {
    "officer": [
        "/",
        "/cases/",
        ("/cases/seizures", r"^/cases/\d+$"),
        "/cases/new/seizure",
        "/alerts/",
    ],
    "intel": [
        ("/intel/entities", r"^/intel/entities/\d+$"),
        "/news/network",
        "/news/",
        "/search?q=tobacco",
        "/intel/chart",
    ],
    "analyst": ["/risk/profiles", ("/risk/declarations", r"^/risk/declarations/\d+$")],
    "auditor": ["/audit/"],
    "dpo": ["/trail"],
    "admin": ["/admin/users", "/admin/reference/"],
    "supervisor": ["/alerts/supervise"],
}


def _signed_in(browser, base_url, username):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto("/login")
    pg.fill("#username", username)
    pg.fill("#password", demo_password(username))
    pg.click("button[type=submit]")
    pg.wait_for_url("**/")
    return pg


def _open(pg, target) -> str:
    if isinstance(target, str):
        pg.goto(target, wait_until="networkidle")
        return target
    listing, pattern = target
    pg.goto(listing, wait_until="networkidle")
    hrefs = pg.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found = next((h for h in hrefs if re.match(pattern, h.split("?")[0])), None)
    assert found, f"no link matching {pattern} on {listing}"
    pg.goto(found, wait_until="networkidle")
    return found


def test_key_pages_of_every_role_have_no_serious_violation(page, runner, db, live_server):
    result = runner.invoke(args=["demo", "load", "--small"])
    assert result.exit_code == 0, result.output
    db.session.commit()

    found, visited = [], []
    for username, targets in PAGES.items():
        pg = _signed_in(page.context.browser, live_server, username)
        for target in targets:
            path = _open(pg, target)
            visited.append(f"{username} {path}")
            for v in violations_now(pg):
                nodes = "; ".join(f"{n['target']} ({n['summary']})" for n in v["nodes"])
                found.append(f"{username} {path}: {v['impact']} {v['id']}: {nodes}")
        pg.context.close()
    assert len(visited) >= 15
    assert not found, "\n".join(found)
