"""Issue 15 item 6: saved searches and watches run as their owner.

With the owner's permissions and need-to-know of the day, and for an API client its scopes
of the day; a watch's or saved search's recipients are people of the owner's own unit.
"""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.alerts import receivers, tasks, watches
from app.alerts.models import Alert, SavedSearch
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.security.access import Actor
from tests.alerts.test_watches import _index, searchable  # noqa: F401 - fixture

intel = pytest.importorskip("app.intel.service", reason="needs the intel domain")


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _alerts(db):
    db.session.expire_all()
    return db.session.scalars(select(Alert).order_by(Alert.id)).all()


def _backdate(db, saved_id):
    saved = db.session.get(SavedSearch, saved_id)
    saved.created_dt = now_utc() - timedelta(minutes=1)
    db.session.commit()


# --- scopes -----------------------------------------------------------------------------------


def test_a_client_without_search_scope_cannot_save_a_search(client, make, db):
    unit = make.unit()
    _, token = make.api_client(["alerts:read", "alerts:write"], unit=unit)
    assert client.post("/api/v1/search", headers=_bearer(token)).status_code in (403, 405)
    body = {"name": "Guns", "query": "pistol", "recipients": {"units": [unit.id]}}
    refused = client.post("/api/v1/saved-searches", json=body, headers=_bearer(token))
    assert refused.status_code == 403
    assert db.session.scalar(select(SavedSearch)) is None
    _, allowed = make.api_client(["alerts:read", "alerts:write", "search:read"], unit=unit)
    assert (
        client.post("/api/v1/saved-searches", json=body, headers=_bearer(allowed)).status_code
        == 201
    )


def test_a_client_that_loses_search_scope_stops_matching(client, make, db, searchable):  # noqa: F811
    token = f"zq{uuid.uuid4().hex[:8]}"
    unit = make.unit()
    sup = make.user(roles=["supervisor"], unit=unit)
    api_client, bearer = make.api_client(
        ["alerts:read", "alerts:write", "search:read", "cases:read"], unit=unit
    )
    body = {"name": "Guns", "query": f"{token} pistol", "recipients": {"users": [sup.id]}}
    made = client.post("/api/v1/saved-searches", json=body, headers=_bearer(bearer))
    assert made.status_code == 201
    _backdate(db, made.json["id"])
    searchable(unit, f"{token} pistol in a glovebox", code="P")
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 1
    # The administrator takes search:read away: the search no longer runs for it.
    api_client.scopes = "alerts:read alerts:write cases:read"
    searchable(unit, f"{token} pistol under a seat", code="P")
    db.session.commit()
    _index()
    assert tasks.run_saved_searches() == 0
    assert len(_alerts(db)) == 1


def test_a_clients_search_finds_only_what_the_client_may_open(make, db, searchable):  # noqa: F811
    """Run as the client (its unit), not as the system: another unit's code-C record is
    no result, so no alert names it, not even to people of that other unit."""
    token = f"zq{uuid.uuid4().hex[:8]}"
    unit_a, unit_b = make.unit(), make.unit()
    sup_a = make.user(roles=["supervisor"], unit=unit_a)
    make.user(roles=["supervisor"], unit=unit_b)
    api_client, _ = make.api_client(["alerts:write", "search:read", "cases:read"], unit=unit_b)
    actor = Actor.for_client(api_client, watches.client_permissions(api_client))
    saved = watches.save_search(
        actor, name="Guns", query=f"{token} pistol", recipients={"roles": ["supervisor"]}
    )
    db.session.commit()
    _backdate(db, saved.id)
    searchable(unit_a, f"{token} pistol hidden by A", code="C")
    db.session.commit()
    _index()
    tasks.run_saved_searches()
    assert [a for a in _alerts(db) if any(r.user_id == sup_a.id for r in a.recipients)] == []
    assert _alerts(db) == []


# --- need-to-know of the day --------------------------------------------------------------------


def test_an_owner_who_loses_access_to_the_watched_entity_gets_no_more_alerts(make, db):
    unit_a, unit_b = make.unit(code="HQ-INT"), make.unit(code="BCP-S")
    owner = make.user(roles=["intelligence_officer"], unit=unit_a)
    officer_a = Actor.for_user(make.user(roles=["intelligence_officer"], unit=unit_a))
    person = intel.create_entity("person", "Mirela Vostrikova", actor=officer_a, handling_code="C")
    phone = intel.create_entity("phone", "+38344111222", actor=officer_a)
    db.session.flush()
    watches.watch_entity(Actor.for_user(owner), person.id, severity="high")
    db.session.commit()
    intel.add_link(person.id, phone.id, "uses_phone", actor=officer_a)
    db.session.commit()
    assert len(_alerts(db)) == 1  # while the owner may open the person
    # The owner moves to unit B: A's code-C person is no longer theirs to follow, though
    # the next (code-P) link is one they may open.
    owner.unit_id = unit_b.id
    db.session.commit()
    other_phone = intel.create_entity("phone", "+38344333444", actor=officer_a)
    intel.add_link(person.id, other_phone.id, "uses_phone", actor=officer_a)
    db.session.commit()
    assert len(_alerts(db)) == 1


# --- recipients in the owner's unit ---------------------------------------------------------------


def test_a_clients_recipients_are_limited_to_its_unit(client, make, db):
    unit, elsewhere = make.unit(), make.unit(code="FAR")
    mine = make.user(roles=["supervisor"], unit=unit)
    theirs = make.user(roles=["supervisor"], unit=elsewhere)
    _, token = make.api_client(["alerts:read", "alerts:write"], unit=unit)

    def post(recipients):
        body = {"kind": "term", "term": f"t{uuid.uuid4().hex[:6]}", "recipients": recipients}
        return client.post("/api/v1/watches", json=body, headers=_bearer(token))

    bad = post({"users": [mine.id, theirs.id]})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"recipients.users[1]"}
    bad = post({"units": [elsewhere.id]})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"recipients.units[0]"}
    assert post({"units": ["FAR"]}).status_code == 422
    assert (
        post({"users": [mine.id], "units": [unit.id], "roles": ["supervisor"]}).status_code == 201
    )


def test_a_clients_role_recipients_are_its_units_people(make, db):
    unit, elsewhere = make.unit(), make.unit()
    mine = make.user(roles=["supervisor"], unit=unit)
    make.user(roles=["supervisor"], unit=elsewhere)
    api_client, _ = make.api_client(["alerts:write", "alerts:read"], unit=unit)
    actor = Actor.for_client(api_client, watches.client_permissions(api_client))
    watches.watch_term(actor, "bluefin tuna", recipients={"roles": ["supervisor"]})
    db.session.commit()
    article = SimpleNamespace(id=7, title="Bluefin tuna seized", summary="")
    receivers.on_article_stored(None, article=article, actor=None)
    db.session.commit()
    [alert] = _alerts(db)
    assert [r.user_id for r in alert.recipients] == [mine.id]


def test_a_users_watch_names_recipients_of_their_unit_only(make, db):
    unit, elsewhere = make.unit(), make.unit()
    me = make.user(roles=["intelligence_officer"], unit=unit)
    colleague = make.user(roles=["supervisor"], unit=unit)
    stranger = make.user(roles=["supervisor"], unit=elsewhere)
    with pytest.raises(ValidationError) as err:
        watches.watch_term(make.actor(me), "ivory", recipients={"users": [stranger.id]})
    assert set(err.value.fields) == {"recipients.users[0]"}
    with pytest.raises(ValidationError) as err:
        watches.save_search(
            make.actor(me), name="Ivory", query="ivory", recipients={"units": [elsewhere.id]}
        )
    assert set(err.value.fields) == {"recipients.units[0]"}
    watch = watches.watch_term(make.actor(me), "ivory", recipients={"users": [colleague.id]})
    assert watch.recipients["users"] == [colleague.id]
