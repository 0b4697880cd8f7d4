"""Two requests on the same profile at the same moment (issue 17 item 4): the swap of the
next version happens once, and two saves number their versions one after the other."""

from sqlalchemy import select

from app.extensions import db as _db
from app.risk import profiles, simulation
from app.risk.models import RiskProfileVersion
from app.risk.settings import engine_state
from app.security.access import Actor
from tests.concurrency import race
from tests.risk.factories import body, cond, no_random, profile, submit, tree


def _as(user_id, user_class, do):
    def work():
        do(Actor.for_user(_db.session.get(user_class, user_id)))

    return work


def test_two_approvers_at_once_swap_the_next_version_in_once(worker_app, make, db):
    no_random()
    author = make.user(roles=["risk_analyst"])
    one, two = make.user(roles=["risk_analyst"]), make.user(roles=["risk_analyst"])
    actor = make.actor(author)
    p = profile(actor, conditions=tree(cond("origin", "eq", "CN")))
    submit(body())
    data = {
        "name": p.name,
        "risk_area": p.risk_area,
        "channel": "red",
        "conditions": tree(cond("origin", "eq", "VN")),
    }
    profiles.update_profile(p.id, data, actor=actor)
    simulation.run_simulation([p.id], actor=actor, drafts=True)
    draft_version = p.draft_version
    db.session.commit()
    engine_before = engine_state().version
    pid, user_class = p.id, type(author)

    def activate(a):
        profiles.activate(pid, actor=a)

    outcome = race(worker_app, _as(one.id, user_class, activate), _as(two.id, user_class, activate))
    assert outcome["first"] == "done"
    assert "no next version to activate" in outcome["second"], outcome
    db.session.rollback()
    db.session.refresh(p)
    assert p.version == draft_version and p.draft_version is None
    assert engine_state().version == engine_before + 1
    row = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == pid, RiskProfileVersion.version == draft_version
        )
    )
    assert row.state == "active" and row.approved_by_id == one.id


def test_two_analysts_saving_at_once_number_their_versions_in_turn(worker_app, make, db):
    one, two = make.user(roles=["risk_analyst"]), make.user(roles=["risk_analyst"])
    p = profile(make.actor(one), conditions=tree(cond("origin", "eq", "CN")))
    live = p.version
    db.session.commit()
    pid, user_class = p.id, type(one)

    def save(country):
        def do(a):
            data = {
                "name": "Test profile",
                "risk_area": "Test risk area",
                "channel": "red",
                "conditions": tree(cond("origin", "eq", country)),
            }
            profiles.update_profile(pid, data, actor=a)

        return do

    outcome = race(
        worker_app, _as(one.id, user_class, save("VN")), _as(two.id, user_class, save("TH"))
    )
    assert outcome == {"first": "done", "second": "done"}
    db.session.rollback()
    db.session.refresh(p)
    rows = {
        r.version: r
        for r in db.session.scalars(
            select(RiskProfileVersion).where(RiskProfileVersion.profile_id == pid)
        )
    }
    assert rows[live + 1].state == "discarded" and rows[live + 2].state == "draft"
    assert p.draft_version == live + 2 and p.version == live
    assert rows[live + 2].snapshot["conditions"] == tree(cond("origin", "eq", "TH"))
