"""Issue 19 item 8 in a real Chromium: a highlighted path stays readable in a crowded link
chart, and the resolution queue merges into the record the analyst chooses."""

import pytest

from app.extensions import db as _db
from app.intel import service
from app.intel.models import Entity

pytestmark = pytest.mark.browser

# For each node of the highlighted path: its size on screen, its label's font size on
# screen, and its label's box (rendered pixels); and whether the others are dimmed.
PATH_FIGURES = """() => {
  const cy = window.TollgateChart, zoom = cy.zoom();
  const nodes = cy.nodes('.path').map(n => {
    const b = n.renderedBoundingBox({includeNodes: false, includeEdges: false});
    return {label: n.data('label'), width: n.renderedWidth(),
            font: n.numericStyle('font-size') * zoom, box: [b.x1, b.y1, b.x2, b.y2]};
  });
  const others = cy.nodes().not('.path');
  return {nodes, others: others.length, faded: others.filter('.faded').length,
          width: cy.width(), height: cy.height()};
}"""


def _crowded_network(actor, steps):
    hub = service.create_entity("organisation", "Hub Freight Forwarding LLC", actor=actor)
    first = None
    for i in range(24):
        n = service.create_entity("person", f"Neighbour Number {i:02d} Longname", actor=actor)
        service.add_link(n.id, hub.id, "director_of", actor=actor)
        first = first or n
    chain = [first]
    for i in range(steps):
        name = f"Step {i + 2} Holdings and Shipping Ltd"
        nxt = service.create_entity("organisation", name, actor=actor)
        service.add_link(chain[-1].id, nxt.id, "associate_of", actor=actor)
        chain.append(nxt)
    return hub, chain[-1]


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("steps", [3, 6])  # 6: longer than the chart is wide, in rows
def test_path_highlight_keeps_nodes_and_labels_readable(page, make, sign_in, db, tmp_path, steps):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    hub, target = _crowded_network(actor, steps)
    db.session.commit()
    sign_in(user)
    page.goto(f"/intel/chart?entity={hub.id}")
    page.wait_for_selector("#expand-status:has-text('Showing 24 of 24 links')")
    page.fill("#path-from", str(hub.id))
    page.fill("#path-to", str(target.id))
    page.click("#btn-path")
    page.wait_for_selector("#path-status.path-found")
    shot = f"h12-1-path-highlight-{steps + 1}-links.png"
    page.screenshot(path=str(tmp_path / shot), full_page=True)
    figures = page.evaluate(PATH_FIGURES)
    nodes = figures["nodes"]
    assert [n["label"] for n in nodes][0] == "Hub Freight Forwarding LLC"
    assert len(nodes) == steps + 2
    for n in nodes:  # no slivers, no tiny labels, all in view
        assert n["width"] >= 20, n
        assert n["font"] >= 10, n
        x1, y1, x2, y2 = n["box"]
        assert x1 >= 0 and y1 >= 0 and x2 <= figures["width"] and y2 <= figures["height"], n
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            assert not _overlap(a["box"], b["box"]), (a, b)
    # the rest of the chart stays where it was, dimmed
    assert figures["others"] == 23 and figures["faded"] == 23


def test_resolution_merges_into_the_right_hand_record(page, make, sign_in, db, tmp_path):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    kw = {"entity_type": "person", "actor": actor, "identifiers": {"passport": "P5550001"}}
    a = service.create_entity(name="Ilir Gashi", **kw)
    b = service.create_entity(
        name="Gashi Ilir", aliases=["I. Gashi"], duplicate_reason="a duplicate for this test", **kw
    )
    db.session.commit()
    left, right = sorted((a.id, b.id))
    sign_in(user)
    page.goto("/intel/resolution")
    page.wait_for_selector("tr.differs:has-text('aliases')")
    page.check(f"input[name=survivor][value='{right}']")
    page.screenshot(path=str(tmp_path / "h12-2-resolution-side-by-side.png"), full_page=True)
    page.click("button[name=judgement][value=merge]")
    page.wait_for_url(f"**/intel/entities/{right}")
    page.screenshot(path=str(tmp_path / "h12-3-merged-into-right.png"), full_page=True)
    _db.session.rollback()
    assert _db.session.get(Entity, left).merged_into_id == right
    assert _db.session.get(Entity, right).merged_into_id is None
