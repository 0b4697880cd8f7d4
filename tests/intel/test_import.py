"""CSV import with a mapping: row-precise errors, nothing half-written, no blind duplicates."""

import io

import pytest

from app.core.errors import ValidationError
from app.intel import importer, service
from app.intel.models import Entity, EntityMatch, Link
from tests.intel.factories import entity, officer

ENTITIES = (
    b"Kind,Company Name,EORI,Also known as,City\n"
    b"organisation,Meridian Logistics,XK555000111,Meridian Log;MLOG,Pristina\n"
    b"person,Valon Berisha,,,Peja\n"
    b"organisation,Known Trader,XK999000999,,\n"
)
MAPPING = (
    "type: Kind\nname: Company Name\nidentifiers.eori: EORI\n"
    "aliases: Also known as\nattributes.city: City"
)


def test_entities_import_with_mapping_reuses_known_identifiers(make, db):
    _, actor = officer(make)
    known = entity(actor, "Known Trader Ltd", identifiers={"eori": "XK999000999"})
    summary = importer.import_csv(
        ENTITIES, "entities", actor=actor, mapping=importer.parse_mapping(MAPPING)
    )
    assert summary.rows == 3 and len(summary.created) == 2 and summary.reused == [known.id]
    meridian = db.session.get(Entity, summary.created[0])
    assert meridian.aliases == ["Meridian Log", "MLOG"]
    assert meridian.attributes == {"city": "Pristina"}
    assert meridian.provenance_type == "import"
    assert db.session.query(Entity).count() == 3


def test_errors_name_row_and_column_and_nothing_is_written(make, db):
    _, actor = officer(make)
    bad = (
        b"Kind,Company Name,EORI,Also known as,City\n"
        b"organisation,Fine Co,XK555000111,,\n"
        b"spaceship,Bad Type,,,\n"
        b"organisation,,X1,,\n"
    )
    with pytest.raises(ValidationError) as err:
        importer.import_csv(bad, "entities", actor=actor, mapping=importer.parse_mapping(MAPPING))
    fields = err.value.fields
    assert fields["row 3: Kind"] == "unknown entity type 'spaceship'"
    assert fields["row 4: Company Name"] == "is required"
    assert fields["row 4: EORI"].startswith("EORI must be")
    db.session.rollback()
    assert db.session.query(Entity).count() == 0


def test_mapping_errors(make):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        importer.import_csv(
            ENTITIES, "entities", actor=actor, mapping={"name": "Nope", "colour": "Kind"}
        )
    assert set(err.value.fields) == {"mapping.name", "mapping.colour"}
    with pytest.raises(ValidationError) as err:
        importer.import_csv(b"\xff\xfe", "entities", actor=actor)
    assert "file" in err.value.fields
    with pytest.raises(ValidationError) as err:
        importer.parse_mapping("name Company")
    assert "line 1" in err.value.fields["mapping"]


def test_links_import_resolves_ends_and_proposes_candidates(make, db):
    _, actor = officer(make)
    existing = entity(actor, "Adriatic Freight", identifiers={"eori": "XK123123123"})
    entity(actor, "Petar Nikolic", entity_type="person")
    data = (
        "from,from_type,to_eori,rel,to,to_type,since,grade\n"
        "Petar Nikolić,person,XK 123123123,director of,Adriatic Fr.,organisation,2021-03-01,2B\n"
        "Petar Nikolić,person,,director of,Some Other Co,organisation,,1A\n"
    ).encode()
    mapping = {
        "source.name": "from",
        "source.type": "from_type",
        "target.eori": "to_eori",
        "link_type": "rel",
        "target.name": "to",
        "target.type": "to_type",
        "start_date": "since",
        "grade": "grade",
    }
    summary = importer.import_csv(data, "links", actor=actor, mapping=mapping)
    assert len(summary.links) == 2
    links = db.session.query(Link).order_by(Link.id).all()
    assert links[0].target_id == existing.id and links[0].grade == "2B"
    assert links[0].source_id == links[1].source_id  # the same new person, created once
    assert summary.candidates == 1  # "Petar Nikolić" vs the registered "Petar Nikolic"
    assert db.session.query(EntityMatch).filter(EntityMatch.judgement.is_(None)).count() == 1


def test_links_import_errors(make, db):
    _, actor = officer(make)
    data = b"from,rel,to\nA,owns,\nB,loves,C\n"
    with pytest.raises(ValidationError) as err:
        importer.import_csv(
            data,
            "links",
            actor=actor,
            mapping={"source.name": "from", "link_type": "rel", "target.name": "to"},
        )
    assert err.value.fields == {
        "row 2: to": "is required when no known identifier is given",
        "row 3: rel": "unknown link type 'loves'",
    }


def test_import_page(client, login_as, db):
    login_as("intelligence_officer")
    resp = client.post(
        "/intel/import",
        data={
            "kind": "entities",
            "mapping": MAPPING,
            "entity_type": "organisation",
            "handling_code": "P",
            "file": (io.BytesIO(ENTITIES), "entities.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    db.session.rollback()
    assert db.session.query(Entity).count() == 3
    resp = client.post(
        "/intel/import",
        data={
            "kind": "entities",
            "mapping": "name: Missing",
            "entity_type": "organisation",
            "handling_code": "P",
            "file": (io.BytesIO(ENTITIES), "entities.csv"),
        },
        content_type="multipart/form-data",
    )
    assert "Nothing was imported" in resp.get_data(as_text=True)
    assert "mapping.name" in resp.get_data(as_text=True)
    assert service.find_by_identifier("eori", "XK555000111") is not None
