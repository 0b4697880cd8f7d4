"""Issue 21: entity and link validation has one source (app.intel.validation), so a record
refused one way into the registry is refused the same way by every other."""

import pytest

from app.core.errors import ValidationError
from app.intel import service
from app.intel.bulk import EntityBatch

BAD_ENTITIES = [
    ({"entity_type": "spaceship", "name": "X"}, "entity_type"),
    ({"entity_type": "person", "name": "  "}, "name"),
    ({"entity_type": "person", "name": "x" * 301}, "name"),
    ({"entity_type": "vessel", "name": "V", "identifiers": {"imo": "1234568"}}, "identifiers.imo"),
    ({"entity_type": "vessel", "name": "V", "identifiers": {"eori": "GB1"}}, "identifiers.eori"),
    ({"entity_type": "person", "name": "P", "aliases": "Ivan"}, "aliases"),
    ({"entity_type": "person", "name": "P", "attributes": ["x"]}, "attributes"),
    ({"entity_type": "person", "name": "P", "handling_code": "X"}, "handling_code"),
]


def _errors(call):
    with pytest.raises(ValidationError) as exc:
        call()
    return exc.value.fields


@pytest.mark.parametrize(("values", "field"), BAD_ENTITIES)
def test_service_and_batch_refuse_an_entity_alike(db, make, values, field):
    actor = make.actor(make.user(roles=["intelligence_officer"]))
    values = dict(values)
    entity_type, name = values.pop("entity_type"), values.pop("name")
    one = _errors(lambda: service.create_entity(entity_type, name, actor=actor, **values))
    batch = EntityBatch(actor)
    other = _errors(lambda: batch.entity(entity_type, name, **values))
    assert field in one
    assert one == other


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"link_type": "likes"}, "link_type"),
        ({"link_type": "owns", "start_date": "2020-13-01"}, "start_date"),
        ({"link_type": "owns", "start_date": "2021-01-01", "end_date": "2020-01-01"}, "end_date"),
        ({"link_type": "owns", "grade": "4Z"}, "grade.source_grade"),
    ],
)
def test_service_and_batch_refuse_a_link_alike(db, make, values, field):
    actor = make.actor(make.user(roles=["intelligence_officer"]))
    a = service.create_entity("person", "A", actor=actor)
    b = service.create_entity("organisation", "B", actor=actor)
    values = dict(values)
    link_type = values.pop("link_type")
    one = _errors(lambda: service.add_link(a.id, b.id, link_type, actor=actor, **values))
    other = _errors(lambda: EntityBatch(actor).link(a, b, link_type, **values))
    assert field in one
    assert one == other
