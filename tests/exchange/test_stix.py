"""STIX 2.1: a report's bundle passes stix2-validator with no errors, carries the 3x5x2 grade
(confidence and labels), the sanitised text only and what the exporter may see; a bundle
imports as resolution candidates (never merges); a bad object refuses the whole bundle."""

import json

import pytest
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_string

from app.core.errors import ValidationError
from app.exchange import stix
from app.exchange.stix_import import import_bundle
from app.intel import reports, service
from app.intel.models import Entity, EntityMatch, Link
from app.security.trail import AccessEvent
from tests.intel.factories import officer


def _report(make, handling="C"):
    user, actor = officer(make)
    ivan = service.create_entity(
        "person",
        "Ivan Petrov",
        actor=actor,
        aliases=["Иван Петров"],
        identifiers={"passport": "P1234567"},
        attributes={"birth_date": "1971-04-02"},
    )
    firm = service.create_entity(
        "organisation", "Balkan Trading LLC", actor=actor, identifiers={"eori": "RS123456789"}
    )
    home = service.create_entity(
        "address", "Brivibas iela 1, Riga", actor=actor, attributes={"country": "LV"}
    )
    ship = service.create_entity(
        "vessel", "Aurora Star", actor=actor, identifiers={"imo": "9074729"}
    )
    report = reports.create_report(
        "Balkan Trading fronts for Petrov",
        "SOURCE-ONLY TEXT: the informant met Petrov in Riga.",
        "2",
        "B",
        actor=actor,
        handling_code=handling,
        sanitised_body="Petrov directs Balkan Trading.",
        entity_ids=[ivan.id, firm.id, ship.id],
        links=[
            {
                "source_id": ivan.id,
                "target_id": firm.id,
                "link_type": "director_of",
                "start_date": "2020-01-15",
            },
            {"source_id": ivan.id, "target_id": home.id, "link_type": "lives_at"},
            {"source_id": firm.id, "target_id": ship.id, "link_type": "owns"},
        ],
    )
    return user, actor, report


def _objects(bundle, kind):
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_a_report_bundle_passes_stix2_validator_with_no_errors(db, make):
    user, actor, report = _report(make)
    out = stix.export_report(report.id, actor=actor, justification="to the FIU, ref 12")
    result = validate_string(out.body.decode(), ValidationOptions(version="2.1"))
    assert result.is_valid
    assert result.errors == []
    bundle = out.bundle
    (rep,) = _objects(bundle, "report")
    assert rep["name"].startswith(report.reference)
    # 2B: intelligence B is Admiralty 1 ("confirmed"), STIX confidence 100; the whole grade
    # (and the source reliability confidence cannot hold) in the labels
    assert rep["confidence"] == 100
    assert rep["labels"] == ["grade:2B", "handling:C"]
    assert rep["description"] == "Petrov directs Balkan Trading."
    assert "SOURCE-ONLY" not in out.body.decode()
    assert rep["object_marking_refs"] == [
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    ]
    names = sorted(o["name"] for o in _objects(bundle, "identity"))
    assert "Ivan Petrov" in names and "Balkan Trading LLC" in names
    (loc,) = _objects(bundle, "location")
    assert loc["country"] == "LV"
    kinds = sorted(r["relationship_type"] for r in _objects(bundle, "relationship"))
    assert kinds == ["director-of", "located-at"]  # the vessel has no STIX object: left out
    assert out.left_out == {"vessel": 1}
    director = next(
        r for r in _objects(bundle, "relationship") if r["relationship_type"] == "director-of"
    )
    assert director["confidence"] == 100 and director["labels"] == ["grade:2B"]
    assert director["start_time"] == "2020-01-15T00:00:00Z"
    row = db.session.scalars(select(AccessEvent).where(AccessEvent.action == "export")).one()
    assert (row.record_type, row.record_id, row.justification) == (
        "report",
        str(report.id),
        "to the FIU, ref 12",
    )


def test_the_grade_maps_to_confidence_by_the_admiralty_scale():
    assert [stix.confidence(f"1{g}") for g in "ABCDE"] == [80, 100, 50, None, 10]
    assert stix.confidence(None) is None


def test_an_export_needs_a_justification(db, make):
    _, actor, report = _report(make)
    with pytest.raises(ValidationError):
        stix.export_report(report.id, actor=actor, justification="")


def test_what_the_exporter_may_not_see_is_left_out(db, make):
    user, actor, report = _report(make, handling="P")
    _, other = officer(make)
    secret = service.create_entity("person", "SENTINEL-OTHER-UNIT", actor=other, handling_code="C")
    firm = db.session.scalar(select(Entity).where(Entity.name == "Balkan Trading LLC"))
    service.add_link(
        secret.id,
        firm.id,
        "shareholder_of",
        actor=other,
        handling_code="C",
        provenance_type="report",
        provenance_id=report.id,
    )
    body = stix.export_report(report.id, actor=actor, justification="FIU").body.decode()
    assert "SENTINEL" not in body
    assert "shareholder-of" not in body


def test_a_bundle_imports_as_resolution_candidates_not_merges(db, make):
    user, actor, report = _report(make, handling="P")
    before = db.session.scalar(select(func.count()).select_from(Entity))
    data = stix.export_report(report.id, actor=actor, justification="round trip").body
    _, importer = officer(make)
    summary = import_bundle(data, actor=importer, handling_code="C")
    assert len(summary.created) == 3  # two identities and the location
    assert summary.links == 2
    new = db.session.scalars(select(Entity).where(Entity.id.in_(summary.created))).all()
    assert {e.unit_id for e in new} == {importer.unit_id}
    ivan = next(e for e in new if e.name == "Ivan Petrov")
    assert ivan.identifiers == {"passport": "P1234567"}
    assert ivan.aliases == ["Иван Петров"]
    links = db.session.scalars(select(Link).where(Link.source_id == ivan.id)).all()
    assert sorted((lk.link_type, lk.grade) for lk in links) == [
        ("director_of", "2B"),
        ("lives_at", "2B"),
    ]
    # nothing merged; each imported person/company waits beside its original
    assert db.session.scalar(select(func.count()).select_from(Entity)) == before + 3
    assert all(e.merged_into_id is None for e in db.session.scalars(select(Entity)))
    pairs = db.session.scalars(select(EntityMatch).where(EntityMatch.judgement.is_(None))).all()
    paired = {m.entity_a_id for m in pairs} | {m.entity_b_id for m in pairs}
    assert ivan.id in paired
    assert summary.candidates >= 2


def _bundle(*objects):
    return json.dumps(
        {
            "type": "bundle",
            "id": "bundle--6f6b4a5e-6b1d-4a34-9a8e-111111111111",
            "objects": list(objects),
        }
    ).encode()


PERSON = {
    "type": "identity",
    "spec_version": "2.1",
    "id": "identity--0a3f5b6e-2f7e-4c0a-9b0e-222222222222",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "Ivan Petrov",
    "identity_class": "individual",
}


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b"{not json", "bundle", "not valid JSON"),
        (json.dumps({"type": "report"}).encode(), "bundle", "not a STIX bundle"),
        (json.dumps({"type": "bundle", "objects": {}}).encode(), "bundle.objects", "list"),
        (
            _bundle(
                PERSON,
                {
                    **PERSON,
                    "identity_class": 5,
                    "id": "identity--0a3f5b6e-2f7e-4c0a-9b0e-333333333333",
                },
            ),
            "objects[1] identity--0a3f5b6e-2f7e-4c0a-9b0e-333333333333",
            "not valid STIX 2.1",
        ),
        (
            _bundle(PERSON, {**PERSON, "created": "yesterday"}),
            "objects[1] identity--0a3f5b6e-2f7e-4c0a-9b0e-222222222222",
            "not valid STIX 2.1",
        ),
        (_bundle(PERSON, "not an object"), "objects[1]", "not a STIX object"),
        (
            _bundle(PERSON, {**PERSON, "id": "identity--x", "name": None}),
            "objects[1] identity--x",
            "not valid STIX 2.1",
        ),
        (
            _bundle(
                PERSON,
                {**PERSON, "id": "identity--0a3f5b6e-2f7e-4c0a-9b0e-444444444444", "name": "Olga"},
                {
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": "relationship--0a3f5b6e-2f7e-4c0a-9b0e-555555555555",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "relationship_type": "hates",
                    "source_ref": PERSON["id"],
                    "target_ref": "identity--0a3f5b6e-2f7e-4c0a-9b0e-444444444444",
                },
            ),
            "objects[2] relationship--0a3f5b6e-2f7e-4c0a-9b0e-555555555555 link_type",
            "must be one of",
        ),
    ],
)
def test_a_bad_bundle_or_object_is_refused_and_nothing_stored(db, make, data, where, reason):
    _, importer = officer(make)
    with pytest.raises(ValidationError) as exc:
        import_bundle(data, actor=importer, handling_code="C")
    assert where in exc.value.fields, exc.value.fields
    assert reason in exc.value.fields[where]
    assert db.session.scalar(select(func.count()).select_from(Entity)) == 0


def test_the_report_page_and_the_api_export_stix(db, client, make):
    user, actor, report = _report(make)
    db.session.commit()
    make.sign_in(client, user)
    page = client.get(f"/intel/reports/{report.id}").get_data(as_text=True)
    assert f'action="/exchange/reports/{report.id}/stix"' in page
    resp = client.post(f"/exchange/reports/{report.id}/stix", data={"justification": "FIU"})
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["type"] == "bundle"
    _, token = make.api_client(["entities:read"], unit=user.unit)
    api = client.post(
        f"/api/v1/exchange/reports/{report.id}/stix",
        json={"justification": "FIU"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200
    assert validate_string(api.get_data(as_text=True), ValidationOptions(version="2.1")).is_valid


def test_the_cli_exports_and_imports(db, runner, make, tmp_path):
    user, actor, report = _report(make, handling="P")
    db.session.commit()
    out = tmp_path / "r.json"
    result = runner.invoke(
        args=[
            "intel",
            "export-stix",
            "--as",
            user.username,
            "--report",
            str(report.id),
            "--justification",
            "FIU",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    other, _ = officer(make)
    db.session.commit()
    result = runner.invoke(
        args=["intel", "import-stix", str(out), "--as", other.username, "--handling", "C"]
    )
    assert result.exit_code == 0, result.output
    assert "registered 3 entities and 2 links" in result.output
