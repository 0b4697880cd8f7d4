"""``tollgate intel import-ftm``: the example file lands as the registry's entities and links,
batch by batch, all or nothing per batch, every refusal naming its line and reason."""

import pytest
from sqlalchemy import func, select

from app.intel.models import Entity, Link
from app.security.trail import AccessEvent
from tests.exchange.helpers import EXAMPLE, lines, registry, write

EXAMPLE_LINKS = {
    ("Ivan Petrov", "shareholder_of", "Balkan Trading LLC", "2019-03-01", None, "1B", "C"),
    ("Balkan Trading LLC", "owns", "Aurora Star", None, None, None, "C"),
    (
        "Olga Petrova",
        "director_of",
        "Balkan Trading LLC",
        "2020-01-15",
        "2023-06-30",
        "2C",
        "C",
    ),
    ("Ivan Petrov", "family_of", "Olga Petrova", None, None, None, "C"),
    ("Olga Petrova", "associate_of", "Ivan Petrov", None, None, None, "C"),
    ("Ivan Petrov", "drives", "Scania R450", None, None, None, "C"),
    ("Ivan Petrov", "lives_at", "Brivibas iela 1, Riga, Latvia", None, None, None, "C"),
    (
        "Balkan Trading LLC",
        "registered_at",
        "Brivibas iela 1, Riga, Latvia",
        None,
        None,
        None,
        "C",
    ),
}


@pytest.fixture
def officer(make):
    return make.user(roles=["intelligence_officer"], username="ftm.importer")


def _import(runner, path, *extra, handling="C"):
    return runner.invoke(
        args=[
            "intel",
            "import-ftm",
            str(path),
            "--as",
            "ftm.importer",
            "--handling",
            handling,
            *extra,
        ]
    )


def test_the_example_file_imports_as_entities_and_links(db, runner, officer):
    result = _import(runner, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "6 entities created" in result.output
    db.session.rollback()
    entities, links = registry(officer.unit_id)
    assert entities["Ivan Petrov"] == (
        "person",
        ["I. Petrov", "Иван Петров"],
        {"passport": "P1234567"},
        {"birth_date": "1971-04-02", "nationality": "RU"},
        "C",
    )
    assert entities["Balkan Trading LLC"][2] == {"company_reg": "RS20931", "eori": "RS123456789"}
    assert entities["Balkan Trading LLC"][3] == {"country": "RS"}
    assert entities["Aurora Star"][:3] == ("vessel", [], {"imo": "9074729"})
    assert entities["Scania R450"][:3] == ("vehicle", [], {"plate": "LVAB1234"})
    assert entities["Brivibas iela 1, Riga, Latvia"][0] == "address"
    assert links == EXAMPLE_LINKS
    created = db.session.scalar(
        select(func.count())
        .select_from(AccessEvent)
        .where(AccessEvent.action == "create", AccessEvent.record_type == "entity")
    )
    assert created == 6


def test_a_lines_own_stricter_handling_code_wins(db, runner, officer):
    assert _import(runner, EXAMPLE, handling="P").exit_code == 0
    db.session.rollback()
    entities, links = registry(officer.unit_id)
    assert entities["Ivan Petrov"][4] == "P"
    assert {lk[1]: lk[6] for lk in links}["drives"] == "C"


def test_links_before_their_entities_wait_for_them_across_batches(db, runner, officer, tmp_path):
    rows = lines()
    path = write(tmp_path, rows[::-1])  # every link before the entities it names
    result = _import(runner, path, "--batch-size", "3")
    assert result.exit_code == 0, result.output
    db.session.rollback()
    entities, links = registry(officer.unit_id)
    assert len(entities) == 6
    assert entities["Balkan Trading LLC"][2] == {"company_reg": "RS20931", "eori": "RS123456789"}
    assert links == EXAMPLE_LINKS


def test_a_bad_line_refuses_its_batch_only_and_names_line_and_reason(db, runner, officer, tmp_path):
    rows = lines()
    rows[4] = {
        "id": "ex-vessel-aurora",
        "schema": "Vessel",
        "properties": {"name": ["Aurora Star"], "imoNumber": ["9074728"]},
    }
    rows[5] = dict(rows[5], properties={**rows[5]["properties"], "colour": ["red"]})
    path = write(tmp_path, rows)
    result = _import(runner, path, "--batch-size", "4")
    assert result.exit_code == 1
    assert "lines 5-8: REFUSED" in result.output
    assert (
        "line 5 (entity ex-vessel-aurora): property 'imoNumber': '9074728' is not a valid"
        in result.output
    )
    assert "line 6 (entity ex-vehicle-truck): unknown property 'colour' of schema 'Vehicle'" in (
        result.output
    )
    db.session.rollback()
    names = set(db.session.scalars(select(Entity.name)))
    # lines 1-4 stored; nothing of lines 5-8 (vessel, vehicle, address, a link); the links of
    # later batches that name them are refused at the end, naming the missing entity
    assert names == {"Ivan Petrov", "Olga Petrova", "Balkan Trading LLC"}
    assert "no entity 'ex-vessel-aurora' stored" in result.output
    assert db.session.scalar(select(func.count()).select_from(Link)) > 0


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            {"id": "x", "schema": "Sanction", "properties": {"entity": ["ex-person-ivan"]}},
            "schema 'Sanction' has no place in the registry",
        ),
        ({"id": "x", "schema": "Dragon", "properties": {}}, "unknown schema 'Dragon'"),
        (
            {
                "id": "x",
                "schema": "UnknownLink",
                "properties": {
                    "subject": ["ex-person-ivan"],
                    "object": ["ex-person-olga"],
                    "role": ["partner in crime"],
                },
            },
            "role 'partner in crime' is not a Tollgate link kind",
        ),
        (
            {
                "id": "x",
                "schema": "Directorship",
                "properties": {
                    "director": ["ex-person-ivan"],
                    "organization": ["ex-company-balkan"],
                    "startDate": ["2015"],
                },
            },
            "startDate '2015' is not a full date",
        ),
        (
            {
                "id": "x",
                "schema": "Directorship",
                "properties": {
                    "director": ["ex-person-ivan"],
                    "organization": ["ex-company-balkan"],
                },
                "grade": "9Z",
            },
            "grade.source_grade",
        ),
        (
            {"id": "x", "schema": "Person", "properties": {"name": ["X"]}, "handling_code": "S"},
            "handling_code must be P or C",
        ),
        (
            {"id": "ex-person-ivan", "schema": "Person", "properties": {"name": ["Twin"]}},
            "this entity id is already in the file",
        ),
        (
            {
                "id": "x",
                "schema": "Identification",
                "properties": {
                    "holder": ["ex-person-ivan"],
                    "number": ["1"],
                    "type": ["library card"],
                },
            },
            "identification type 'library_card' is not a scheme",
        ),
        (
            {
                "id": "x",
                "schema": "Person",
                "properties": {"name": ["X"], "passportNumber": ["P#1"]},
            },
            "identifiers.passport: use letters, digits",
        ),
    ],
)
def test_hostile_lines_refuse_the_batch_naming_line_and_reason(
    db, runner, officer, tmp_path, row, reason
):
    path = write(tmp_path, [*lines(), row])
    result = _import(runner, path)
    assert result.exit_code == 1
    assert f"line 14 (entity {row['id']})" in result.output
    assert reason in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Entity)) == 0
    assert db.session.scalar(select(func.count()).select_from(Link)) == 0


def test_unsupported_schemata_can_be_skipped_and_counted(db, runner, officer, tmp_path):
    sanction = {"id": "s1", "schema": "Sanction", "properties": {"entity": ["ex-person-ivan"]}}
    result = _import(runner, write(tmp_path, [*lines(), sanction]), "--skip-unsupported")
    assert result.exit_code == 0, result.output
    assert "skipped Sanction 1" in result.output


def test_an_entity_the_importer_may_see_is_reused_by_identifier(db, runner, officer, make):
    from app.intel import service

    actor = make.actor(officer)
    known = service.create_entity(
        "vessel", "MV Aurora", actor=actor, identifiers={"imo": "9074729"}, handling_code="C"
    )
    db.session.commit()
    result = _import(runner, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "1 reused" in result.output
    db.session.rollback()
    owns = db.session.scalars(select(Link).where(Link.link_type == "owns")).one()
    assert owns.target_id == known.id
    assert db.session.scalar(select(func.count()).select_from(Entity)) == 6


def test_the_importer_needs_the_permission(db, runner, make, tmp_path):
    make.user(roles=["risk_analyst"], username="ftm.importer")
    result = _import(runner, EXAMPLE)
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(Entity)) == 0


def test_an_identification_after_its_holders_batch_joins_the_stored_holder(db, runner, officer):
    # batches of 3: the company (line 3) is stored before its EORI (line 4) is read
    result = _import(runner, EXAMPLE, "--batch-size", "3")
    assert result.exit_code == 0, result.output
    db.session.rollback()
    entities, links = registry(officer.unit_id)
    assert entities["Balkan Trading LLC"][2] == {"company_reg": "RS20931", "eori": "RS123456789"}
    assert links == EXAMPLE_LINKS
