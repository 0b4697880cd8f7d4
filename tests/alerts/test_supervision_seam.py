"""Group labels of the inbox go through the seam (issue 19 item 9): a code-C record is
named in a group's label to a reader who may read it, described to one who may not."""

import pytest

from app.alerts import grouping
from app.security.access import Actor
from tests.alerts.test_seam import SENTINEL, _link, world  # noqa: F401 - the fixture

pytest.importorskip("app.intel.service", reason="needs the intel domain")


def test_group_labels_are_rendered_for_their_reader(db, world, client, make):  # noqa: F811
    _link(db, world)
    mine = grouping.groups(Actor.for_user(world.watcher_a), "subject", status="open")
    theirs = grouping.groups(Actor.for_user(world.watcher_b), "subject", status="open")
    assert any(SENTINEL in g["label"] for g in mine)
    assert theirs and not any(SENTINEL in g["label"] for g in theirs)
    assert any("a restricted record of HQ-INT" in g["label"] for g in theirs)
    make.sign_in(client, world.watcher_b)
    for by in ("subject", "source"):
        html = client.get(f"/alerts/?group={by}").get_data(as_text=True)
        assert 'class="alert-group"' in html and SENTINEL not in html
