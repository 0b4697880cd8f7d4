"""The dependency network in a real browser: filter commodity ↔ transport mode, click an
edge in the chart, land on the articles behind it."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_network_edge_click_reaches_articles(page, sign_in, make, db, app):
    from app.textmining.demo import load_textmining_demo

    load_textmining_demo({})
    analyst = make.user(roles=["risk_analyst"])
    db.session.commit()
    sign_in(analyst)

    page.goto("/news/network")
    page.click("a[data-pair='commodity-transport']")
    page.wait_for_url(re.compile(r".*category_a=commodity.*category_b=transport.*"))
    page.wait_for_selector("#network-chart[data-ready='1']")
    # every edge in the table is a commodity ↔ transport pair
    rows = page.locator("#edge-table tbody tr")
    assert rows.count() >= 3
    assert "heroin" in page.locator("#edge-table").inner_text()

    # click the strongest edge where the chart draws it
    point = page.evaluate("""() => {
        const cy = window.TollgateNetwork.cy;
        const edge = cy.edges().max(e => e.data('count')).ele;
        const mid = edge.renderedMidpoint();
        const box = cy.container().getBoundingClientRect();
        return {x: box.left + mid.x, y: box.top + mid.y,
                source: edge.data('source'), target: edge.data('target')};
    }""")
    assert point["source"].startswith("commodity:") and point["target"].startswith("transport:")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(re.compile(r".*/news/network/edge\?.*"))
    assert "source=commodity" in page.url and "target=transport" in page.url
    items = page.locator("#edge-articles li")
    assert items.count() >= 2
    items.first.locator("a.article-title").click()
    page.wait_for_url(re.compile(r".*/news/articles/\d+"))
    assert page.locator("mark.mention-commodity").count() >= 1
    assert page.locator("mark.mention-transport").count() >= 1
