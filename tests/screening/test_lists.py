"""Screening lists (issue 20): loading FtM and CSV versions, the stored diff of a reload,
refusal of a wrong file before anything changes, and the matcher's interface over them."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.screening import admin, loader
from app.screening.models import ScreeningEntry, ScreeningListVersion
from app.screening.service import PartyQuery, active_index, screen
from app.security.access import Actor
from tests.screening.factories import company, load_ftm, person, write_csv, write_ftm

SYSTEM = Actor.system("tests")
ROMASHKA = company(
    "os-romashka", "OOO Romashka", "ООО «Ромашка»", country="ru", innCode=["7701234567"]
)
PUTIN = person(
    "os-putin",
    "Vladimir Vladimirovich Putin",
    "Владимир Владимирович Путин",
    birth="1952-10-07",
    country="ru",
)
VESSEL = {
    "id": "os-star",
    "schema": "Vessel",
    "properties": {"name": ["Ocean Star"], "imoNumber": ["IMO 9876543"]},
}
ADDRESS = {"id": "os-addr", "schema": "Address", "properties": {"full": ["Moscow"]}}


def _count(db):
    return db.session.scalar(select(func.count()).select_from(ScreeningEntry))


def test_ftm_list_loads_and_screens_with_reasons(db):
    version = load_ftm([ROMASHKA, PUTIN, VESSEL, ADDRESS])
    db.session.commit()
    assert (version.entry_count, version.added, version.skipped) == (3, 3, 1)

    [hit] = screen(
        PartyQuery("Obshchestvo s ogranichennoy otvetstvennostyu Romashka", "Company", country="RU")
    )
    assert (hit.entry_id, hit.list_name, hit.list_version) == (
        "os-romashka",
        "Test sanctions",
        "2026-12-01",
    )
    assert hit.score >= hit.threshold == 0.7
    assert any(r.startswith("name tokens 1/1") for r in hit.reasons)
    assert "country RU equal" in hit.reasons
    assert len(hit.entry_version_key) == 16

    [vessel] = screen(PartyQuery("Sea Breeze", "Vessel", identifiers=("IMO9876543",)))
    assert vessel.entry_id == "os-star" and "IMO 9876543 equal" in vessel.reasons
    # a Person query never matches a company, however close the name
    assert screen(PartyQuery("Romashka", "Person")) == []


def test_reload_stores_added_removed_changed_and_the_index_follows(db):
    load_ftm([ROMASHKA, PUTIN])
    db.session.commit()
    before = screen(PartyQuery("Romashka LLC", "Company"))[0].entry_version_key
    changed = company("os-romashka", "OOO Romashka", country="ru", innCode=["7701234568"])
    added = company("os-vector", "Vektor Trading LLC")
    v2 = load_ftm([changed, added], version_date=date(2026, 12, 2))
    db.session.commit()

    assert (v2.added, v2.removed, v2.changed, v2.entry_count) == (1, 1, 1, 2)
    assert v2.diff["added"] == [["os-vector", "Vektor Trading LLC"]]
    assert v2.diff["removed"] == [["os-putin", "Vladimir Vladimirovich Putin"]]
    assert v2.diff["changed"] == [["os-romashka", "OOO Romashka"]]
    assert screen(PartyQuery("Putin Vladimir", "Person")) == []
    [hit] = screen(PartyQuery("Romashka LLC", "Company"))
    assert hit.entry_version_key != before and hit.list_version == "2026-12-02"
    assert [v.id for v in admin.versions(v2.list_id)][0] == v2.id


@pytest.mark.parametrize(
    ("bad_line", "named"),
    [
        (
            '{"id": "x1", "schema": "Company", "properties": {"name": ["A"], "colour": ["red"]}}',
            "unknown property Company:colour",
        ),
        (
            '{"id": "x2", "schema": "Spaceship", "properties": {"name": ["B"]}}',
            "unknown schema 'Spaceship'",
        ),
        ('{"id": "x3", "schema": "Company", "properties": {"name": ["C"]', "is not valid JSON"),
        # read as the registry import reads a line (app.core.ftm.load_line): PostgreSQL text
        # holds no NUL, UTF-8 no lone surrogate; an unknown top-level key is named, not dropped
        (
            '{"id": "x5", "schema": "Person", "properties": {"name": ["NUL\\u0000Name"]}}',
            "value.properties.name[0] must not contain NUL characters",
        ),
        (
            '{"id": "x6", "schema": "Person", "properties": {"name": ["\\ud800"]}}',
            "value.properties.name[0] must not contain a lone surrogate",
        ),
        (
            '{"id": "x7", "schema": "Person", "colour": "red", "properties": {"name": ["F"]}}',
            "entity x7: unknown key 'colour'",
        ),
        ('{"id": "x8", "schema": "Thing", "properties": {"name": ["G"]}}', "abstract schema"),
        (
            '{"id": "x4", "schema": "Person", "properties": {"name": ["D"], "birthDate": ["x"]}}',
            "birthDate 'x' is not a valid date",
        ),
        (
            '{"id": "os-romashka", "schema": "Company", "properties": {"name": ["E"]}}',
            "appears twice",
        ),
    ],
)
def test_a_wrong_line_refuses_the_file_before_anything_changes(db, tmp_path, bad_line, named):
    load_ftm([ROMASHKA])
    db.session.commit()
    path = write_ftm([ROMASHKA, PUTIN], tmp_path / "v2.json")
    path.write_text(path.read_text("utf-8") + bad_line + "\n", "utf-8")
    with pytest.raises(ValidationError) as err:
        loader.load_list(
            path,
            name="Test sanctions",
            source="t",
            version_date=date(2026, 12, 2),
            sensitivity="P",
            actor=SYSTEM,
        )
    db.session.rollback()
    assert list(err.value.fields) == ["line 3"]
    assert named in err.value.fields["line 3"]
    assert _count(db) == 1
    assert db.session.scalar(select(func.count()).select_from(ScreeningListVersion)) == 1


MAPPING = {
    "id": "ref",
    "name": "full_name",
    "schema_column": "type",
    "aliases": "aka",
    "countries": "country",
    "birth_date": "dob",
    "identifiers": {"taxNumber": "tax_id"},
}
HEADER = ["ref", "full_name", "type", "aka", "country", "dob", "tax_id"]


def test_csv_with_mapping_loads(db, tmp_path):
    path = write_csv(
        [
            HEADER,
            ["W-1", "Ivan Sergeyevich Petrov", "Person", "Иван Петров", "RU", "1971-04-02", ""],
            ["W-2", "Blue Harbour Shipping Ltd", "Company", "", "CY", "", "CY10203040"],
        ],
        tmp_path / "watch.csv",
    )
    version = loader.load_list(
        path,
        name="Watch",
        source="national",
        sensitivity="C",
        version_date=date(2026, 11, 30),
        file_format="csv",
        mapping=MAPPING,
        actor=SYSTEM,
    )
    db.session.commit()
    assert version.entry_count == 2 and version.mapping == MAPPING
    [hit] = screen(PartyQuery("Petrov Ivan", "Person", birth_date="1971-04-02"))
    assert (hit.entry_id, hit.sensitivity) == ("W-1", "C")
    assert "birth date 1971-04-02 equal" in hit.reasons
    [hit] = screen(PartyQuery("Northern Light Ltd", "Company", identifiers=("CY 1020 3040",)))
    assert hit.entry_id == "W-2" and "tax number CY10203040 equal" in hit.reasons


@pytest.mark.parametrize(
    ("rows", "mapping", "where", "named"),
    [
        (
            [["ref", "full_name", "type"], ["W-1", "A", "Person"]],
            MAPPING,
            "line 1",
            "the mapping names column 'aka'",
        ),
        (
            [HEADER, ["W-1", "Ivan", "Person", "", "Russia", "", ""]],
            MAPPING,
            "line 2",
            "'Russia' is not a country",
        ),
        (
            [HEADER, ["W-1", "Ivan", "Ship", "", "", "", ""]],
            MAPPING,
            "line 2",
            "'Ship' is not a schema",
        ),
        (
            [HEADER, ["W-1", "Ivan", "Person", "", "", "2.4.1971", ""]],
            MAPPING,
            "line 2",
            "'2.4.1971' is not a date",
        ),
        (
            [HEADER, ["W-1", "Ivan", "Person"]],
            {**MAPPING, "colour": "x"},
            "mapping.colour",
            "is not a mapping key",
        ),
    ],
)
def test_a_csv_that_is_not_what_its_mapping_says_is_refused(
    db, tmp_path, rows, mapping, where, named
):
    load_ftm([ROMASHKA], name="Watch")
    db.session.commit()
    path = write_csv(rows, tmp_path / "watch.csv")
    with pytest.raises(ValidationError) as err:
        loader.load_list(
            path,
            name="Watch",
            source="",
            sensitivity="P",
            file_format="csv",
            version_date=date(2026, 12, 2),
            mapping=mapping,
            actor=SYSTEM,
        )
    db.session.rollback()
    assert named in err.value.fields[where]
    assert _count(db) == 1


def test_threshold_and_activation_apply_without_a_reload(db):
    version = load_ftm([ROMASHKA])
    db.session.commit()
    query = PartyQuery("Romashka Trade", "Company")
    assert screen(query) and screen(query)[0].score < 0.99
    admin.update_settings(version.list_id, threshold=0.99, is_active=True, actor=SYSTEM)
    db.session.commit()
    assert screen(query) == []
    admin.update_settings(version.list_id, threshold=0.5, is_active=False, actor=SYSTEM)
    db.session.commit()
    assert screen(PartyQuery("OOO Romashka", "Company")) == []
    assert len(active_index()) == 0


def test_cli_load_and_refusal(runner, tmp_path):
    path = write_ftm([ROMASHKA, PUTIN], tmp_path / "list.json")
    result = runner.invoke(
        args=[
            "screening",
            "load",
            str(path),
            "--name",
            "CLI list",
            "--version-date",
            "2026-12-01",
            "--sensitivity",
            "C",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "2 entries (2 added, 0 removed, 0 changed" in result.output
    result = runner.invoke(args=["screening", "screen", "Путин Владимир", "--schema", "Person"])
    assert "os-putin" in result.output and "name tokens 2/3" in result.output
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps(MAPPING), "utf-8")
    result = runner.invoke(
        args=[
            "screening",
            "load",
            str(path),
            "--name",
            "CLI list",
            "--version-date",
            "2026-12-02",
            "--mapping",
            str(mapping),
        ]
    )
    assert result.exit_code == 1
    assert "line 1: the mapping names column 'ref'" in result.output
    assert "Nothing was loaded." in result.output
