"""The list/search filters apply record shares exactly as ``can_see`` does (issue 15, item 2).

An API client has no user and a unit-less actor no unit: comparing ``RecordShare.user_id`` (or
``unit_id``) with None renders ``IS NULL`` in SQL, which every unit share (or user share)
satisfies. The filters must compare only the identities the actor has."""

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.cases.queries import case_visible
from app.extensions import db as _db
from app.intel.models import Entity
from app.security.access import Actor, can_see, share_record, visible_clause
from tests.cases.factories import officer, seizure
from tests.intel.factories import entity


def _h(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def shared_world(make, db):
    """Code-C cases and entities of unit A: one shared with unit C, one with a user of
    unit C, one not shared at all."""
    unit_a, unit_b, unit_c = make.unit(code="SHA"), make.unit(code="SHB"), make.unit(code="SHC")
    _, owner = officer(make, unit_a, roles=("enforcement_officer", "intelligence_officer"))
    named_user = make.user(roles=["enforcement_officer", "intelligence_officer"], unit=unit_c)
    records = {}
    for label in ("unit_share", "user_share", "no_share"):
        case = seizure(owner, title=f"Case {label}", handling_code="C")
        ent = entity(owner, f"Entity {label}", handling_code="C")
        records[label] = (case, ent)
    for record in records["unit_share"]:
        share_record(record, unit_ids=[unit_c.id])
    for record in records["user_share"]:
        share_record(record, user_ids=[named_user.id])
    db.session.commit()
    return {
        "units": (unit_a, unit_b, unit_c),
        "named_user": named_user,
        "records": records,
    }


def _client_actor(unit, scopes=("cases:read",)):
    return Actor(
        user_id=None,
        username="api:test",
        unit_id=unit.id,
        roles=("api_client",),
        permissions=frozenset({"case.view", "entity.view"}),
        api_client_id=1,
        scopes=frozenset(scopes),
    )


def _actors(make, world):
    _, unit_b, unit_c = world["units"]
    user_b = make.user(roles=["enforcement_officer"], unit=unit_b)
    unitless = make.user(roles=["enforcement_officer"], unit=unit_b)
    return {
        "api client of another unit": _client_actor(unit_b),
        "api client of the shared unit": _client_actor(unit_c),
        "user of another unit": make.actor(user_b),
        "user named in a share": make.actor(world["named_user"]),
        # A principal with no unit (e.g. a user whose unit was removed): unit_id None must not
        # match every user share.
        "unit-less user": Actor(user_id=unitless.id, username="nounit", unit_id=None),
    }


EXPECTED = {
    "api client of another unit": set(),
    "api client of the shared unit": {"unit_share"},
    "user of another unit": set(),
    "user named in a share": {"unit_share", "user_share"},
    "unit-less user": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_share_filters_match_can_see(who, make, shared_world):
    actor = _actors(make, shared_world)[who]
    records = shared_world["records"]
    for position, model in ((0, Case), (1, Entity)):
        ids = {label: pair[position].id for label, pair in records.items()}
        visible = set(_db.session.scalars(select(model.id).where(visible_clause(actor, model))))
        seen = {label for label, rid in ids.items() if rid in visible}
        assert seen == EXPECTED[who], (model.__name__, who)
        by_object = {label for label, pair in records.items() if can_see(actor, pair[position])}
        assert seen == by_object, (model.__name__, who)
    case_ids = {label: pair[0].id for label, pair in records.items()}
    listed = set(_db.session.scalars(select(Case.id).where(case_visible(actor))))
    assert {label for label, rid in case_ids.items() if rid in listed} == EXPECTED[who]


def test_api_client_of_another_unit_does_not_list_unit_shares(client, make, shared_world):
    """Over HTTP: the case list and the entity list of a unit-B client hold nothing of unit A's
    code-C records, even those shared with unit C; a unit-C client lists what unit C was given."""
    _, unit_b, unit_c = shared_world["units"]
    records = shared_world["records"]
    scopes = ["cases:read", "entities:read"]
    _, token_b = make.api_client(scopes, unit=unit_b)
    _, token_c = make.api_client(scopes, unit=unit_c)

    def listed(token, path, key):
        resp = client.get(path, headers=_h(token), query_string={"per_page": 100})
        assert resp.status_code == 200, resp.get_json()
        return {item[key] for item in resp.get_json()["items"]}

    shared_case, shared_entity = records["unit_share"]
    assert shared_case.id not in listed(token_b, "/api/v1/cases", "id")
    assert shared_entity.id not in listed(token_b, "/api/v1/entities", "id")
    assert client.get(f"/api/v1/cases/{shared_case.id}", headers=_h(token_b)).status_code == 404

    assert shared_case.id in listed(token_c, "/api/v1/cases", "id")
    assert shared_entity.id in listed(token_c, "/api/v1/entities", "id")
    user_case, user_entity = records["user_share"]
    assert user_case.id not in listed(token_c, "/api/v1/cases", "id")
    assert user_entity.id not in listed(token_c, "/api/v1/entities", "id")
