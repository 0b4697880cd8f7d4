"""Profile versions under change control (issue 17 item 4): an edited active profile keeps
firing while its next version is drafted, simulated and activated (four-eyes when the site
asks for it); every version can be viewed and restored; the list says "scheduled" and
"expired"; the editor's errors are in words."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.risk import engine as engine_mod
from app.risk import profiles, simulation
from app.risk.models import ProfileHit, RiskProfileVersion
from app.risk.profile_versions import error_in_words, shown_status
from app.security.access import AccessDenied, Actor
from app.security.models import User
from tests.risk.factories import body, cond, item, no_random, profile, submit, tree


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _data(p, conditions, **fields):
    return {
        "name": p.name,
        "risk_area": p.risk_area,
        "channel": "red",
        "conditions": conditions,
        **fields,
    }


def _hit_version(decl):
    entries = decl.assessment["profiles"]
    return [e["version"] for e in entries]


def _analyst(make):
    return make.actor(make.user(roles=["risk_analyst"]))


def test_editing_an_active_profile_drafts_the_next_version_while_it_keeps_firing(db, make):
    no_random()
    author = _analyst(make)
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")))
    live = p.version
    assert submit(body()).channel == "red"

    profiles.update_profile(p.id, _data(p, tree(cond("origin", "eq", "VN"))), actor=author)
    db.session.commit()
    # Still active, same rule, same version: the edit is the draft of the next version.
    assert p.status == "active" and p.version == live and p.draft_version == live + 1
    assert p.conditions == tree(cond("origin", "eq", "CN"))
    meanwhile = submit(body())
    assert meanwhile.channel == "red" and _hit_version(meanwhile) == [live]
    assert submit(body(items=[item(origin="VN")])).channel == "green"
    draft = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == p.id, RiskProfileVersion.version == p.draft_version
        )
    )
    assert draft.state == "draft" and draft.changed_by_name == author.username
    assert "rule: country of origin is CN → country of origin is VN" in draft.changes

    # Not simulated yet: activation is refused and nothing changes.
    with pytest.raises(ValidationError, match="must be simulated"):
        profiles.activate(p.id, actor=author)
    simulation.run_simulation([p.id], actor=author, drafts=True)
    assert draft.state == "simulated" and draft.simulation["selected"] >= 0
    assert p.status == "active" and p.conditions == tree(cond("origin", "eq", "CN"))

    profiles.activate(p.id, actor=author)
    db.session.commit()
    assert p.version == live + 1 and p.draft_version is None
    assert draft.state == "active" and draft.approved_by_name == author.username
    after = submit(body(items=[item(origin="VN")]))
    assert after.channel == "red" and _hit_version(after) == [live + 1]
    assert submit(body()).channel == "green"
    hit = db.session.scalar(select(ProfileHit).where(ProfileHit.declaration_id == after.id))
    assert hit.profile_version == live + 1


def test_four_eyes_the_author_cannot_activate_alone(app, db, make, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_PROFILE_FOUR_EYES", True)
    no_random()
    author = _analyst(make)
    second = _analyst(make)
    supervisor = make.actor(make.user(roles=["supervisor"]))
    officer = make.actor(make.user(roles=["enforcement_officer"]))
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")), status="simulated")
    submit(body())  # history to simulate on
    # The analyst who wrote the profile does not activate it alone.
    with pytest.raises(ValidationError, match="written by you"):
        profiles.set_status(p.id, "active", actor=author)
    with pytest.raises(AccessDenied):
        profiles.activate(p.id, actor=officer)
    assert p.status == "simulated"
    profiles.activate(p.id, actor=second)
    assert p.status == "active" and p.versions[0].approved_by_name == second.username

    # The next version, written by the second analyst: the supervisor approves it.
    profiles.update_profile(p.id, _data(p, tree(cond("origin", "eq", "VN"))), actor=second)
    simulation.run_simulation([p.id], actor=second, drafts=True)
    with pytest.raises(ValidationError, match="written by you"):
        profiles.activate(p.id, actor=second)
    profiles.activate(p.id, actor=supervisor)
    assert p.conditions == tree(cond("origin", "eq", "VN")) and p.author_id == second.user_id


def test_any_version_can_be_viewed_and_restored_as_a_new_draft(client, login_as, db, make):
    no_random()
    author = _analyst(make)
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")))
    submit(body())  # history to simulate on
    first = p.version
    profiles.update_profile(p.id, _data(p, tree(cond("origin", "eq", "VN"))), actor=author)
    simulation.run_simulation([p.id], actor=author, drafts=True)
    profiles.activate(p.id, actor=author)
    second = p.version
    db.session.commit()

    login_as(db.session.get(User, author.user_id))
    page = client.get(f"/risk/profiles/{p.id}").get_data(as_text=True)
    assert f"/risk/profiles/{p.id}/versions/{first}" in page
    assert f"/risk/profiles/{p.id}/versions/{second}" in page
    old = client.get(f"/risk/profiles/{p.id}/versions/{first}").get_data(as_text=True)
    assert "country of origin is CN" in old
    resp = client.post(f"/risk/profiles/{p.id}/versions/{first}/restore")
    assert resp.status_code == 302
    db.session.rollback()
    # The restored rule is the draft of the next version; the active one keeps firing.
    assert p.status == "active" and p.version == second
    assert p.conditions == tree(cond("origin", "eq", "VN"))
    draft = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == p.id, RiskProfileVersion.version == p.draft_version
        )
    )
    assert draft.snapshot["conditions"] == tree(cond("origin", "eq", "CN"))
    assert f"restored from version {first}" in draft.changes
    versions = db.session.scalars(
        select(RiskProfileVersion.version).where(RiskProfileVersion.profile_id == p.id)
    ).all()
    assert {first, second, p.draft_version} <= set(versions)


def test_a_restored_retired_profile_becomes_a_draft(db, make):
    author = _analyst(make)
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")), status="retired")
    profiles.restore_version(p.id, 1, actor=author)
    assert p.status == "draft" and p.versions[0].changes[0] == "restored from version 1"


def test_the_list_says_scheduled_and_expired(client, login_as, db):
    soon = now_utc() + timedelta(days=3)
    later = profile(name="Future profile", valid_from=soon.isoformat())
    gone = profile(
        name="Past profile",
        valid_from=(now_utc() - timedelta(days=9)).isoformat(),
        valid_to=(now_utc() - timedelta(days=2)).isoformat(),
    )
    now = profile(name="Current profile")
    db.session.commit()
    login_as("risk_analyst")
    page = client.get("/risk/profiles").get_data(as_text=True)
    row = page[page.index("Future profile") :]
    row = row[: row.index("</tr>")]
    assert ">scheduled<" in row and ">active<" not in row
    row = page[page.index("Past profile") :]
    assert ">expired<" in row[: row.index("</tr>")]
    assert (shown_status(later), shown_status(gone), shown_status(now)) == (
        "scheduled",
        "expired",
        "active",
    )


def test_editor_errors_are_in_words_next_to_the_condition(client, login_as, db):
    login_as("risk_analyst")
    bad = {
        "name": "X",
        "risk_area": "Y",
        "channel": "red",
        "conditions_json": '{"join": "and", "conditions": [{"field": "mass", '
        '"op": "gt", "value": "heavy"}, {"join": "or", "conditions": [{"field": "origin",'
        ' "op": "gt", "value": 3}]}]}',
    }
    resp = client.post("/risk/profiles/new", data=bad)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    listed = text[text.index('id="profile-errors"') :]
    listed = listed[: listed.index("</div>")]
    assert "Condition 1, value: &#39;heavy&#39; is not a number" in listed
    assert "Condition 2.1: operator &#39;is above&#39; does not apply" not in listed
    assert "Condition 2.1, operator: &#39;is above&#39; does not apply to country of origin" in (
        listed
    )
    assert "conditions.conditions[" not in listed
    preview = client.post(
        "/risk/profiles/preview",
        json={"join": "and", "conditions": [{"field": "mass", "op": "gt", "value": None}]},
    ).json
    assert preview["ok"] is False
    assert list(preview["errors"].values()) == ["Condition 1: value must be a number"]


def test_error_in_words():
    assert error_in_words("conditions.conditions[0].value[0]", "must be a number") == (
        "Condition 1: value must be a number"
    )
    assert error_in_words("conditions.conditions[1].conditions[2].value[1]", "is empty") == (
        "Condition 2.3: value 2 is empty"
    )
    assert error_in_words("conditions.conditions[0].value", "low is above high") == (
        "Condition 1, value: low is above high"
    )
    assert error_in_words("conditions.join", "must be 'and' or 'or'") == (
        "The rule: combination must be 'and' or 'or'"
    )
    assert error_in_words("name", "is required") == "Name is required"
    assert error_in_words("recipients.users[0]", "must be an id") == (
        "Recipients (users) must be an id"
    )
    assert error_in_words("recipients.roles[0]", "unknown role 'x'") == (
        "Recipients (roles): unknown role 'x'"
    )


def test_the_activate_and_restore_pages_refuse_without_csrf_or_role(client, login_as, db):
    p = profile(status="simulated")
    db.session.commit()
    login_as("intelligence_officer")
    assert client.post(f"/risk/profiles/{p.id}/activate").status_code == 403
    login_as("supervisor")
    # A supervisor approves only with four-eyes activation on; without it analysts activate.
    client.post(f"/risk/profiles/{p.id}/activate")
    db.session.rollback()
    assert p.status == "simulated"
    login_as("risk_analyst")
    assert client.post(f"/risk/profiles/{p.id}/activate").status_code == 302
    db.session.rollback()
    assert p.status == "active"
    assert client.get(f"/risk/profiles/{p.id}/versions/999").status_code == 404


def test_retiring_discards_the_next_version(db, make):
    author = _analyst(make)
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")))
    profiles.update_profile(p.id, _data(p, tree(cond("origin", "eq", "VN"))), actor=author)
    draft_version = p.draft_version
    profiles.set_status(p.id, "retired", actor=author)
    assert p.draft_version is None
    row = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == p.id, RiskProfileVersion.version == draft_version
        )
    )
    assert row.state == "discarded"


def test_system_actor_unchanged(db):
    # The factory's system actor activates (demo loading is not an analyst's decision).
    p = profile(actor=Actor.system("demo"))
    assert p.status == "active"


def test_the_next_version_can_be_discarded_and_the_active_one_keeps_firing(
    client, login_as, db, make
):
    no_random()
    author = _analyst(make)
    p = profile(author, conditions=tree(cond("origin", "eq", "CN")))
    profiles.update_profile(p.id, _data(p, tree(cond("origin", "eq", "VN"))), actor=author)
    number = p.draft_version
    db.session.commit()
    login_as(db.session.get(User, author.user_id))
    assert 'id="discard-draft"' in client.get(f"/risk/profiles/{p.id}").get_data(as_text=True)
    assert client.post(f"/risk/profiles/{p.id}/discard-draft").status_code == 302
    db.session.rollback()
    assert p.draft_version is None and p.status == "active"
    row = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == p.id, RiskProfileVersion.version == number
        )
    )
    assert row.state == "discarded" and row.changes[-1] == f"discarded by {author.username}"
    assert submit(body()).channel == "red"
    with pytest.raises(ValidationError, match="no next version"):
        profiles.discard_next_version(p.id, actor=author)
