"""FtM export: the file validates with followthemoney and imports back to the same entities
and links; it carries only what the exporter may see, needs a justification and is trailed."""

import json

import pytest
from click.testing import CliRunner

from app.core.ftm import model, without_csv_side_effect

with without_csv_side_effect():
    from followthemoney.cli.cli import validate as ftm_validate
from sqlalchemy import select

from app.core.errors import ValidationError
from app.exchange import ftm, ftm_export
from app.intel import service
from app.intel.models import Entity
from app.security.access import NotFound
from app.security.trail import AccessEvent
from tests.exchange.helpers import EXAMPLE, registry


@pytest.fixture
def unit_a(make, runner):
    officer = make.user(roles=["intelligence_officer"], username="officer.a")
    result = runner.invoke(
        args=["intel", "import-ftm", str(EXAMPLE), "--as", "officer.a", "--handling", "C"]
    )
    assert result.exit_code == 0, result.output
    return officer


def _ids(unit_id):
    from app.extensions import db

    return list(db.session.scalars(select(Entity.id).where(Entity.unit_id == unit_id)))


def _export_cli(runner, user, ids, tmp_path):
    out = tmp_path / "out.ftm.jsonl"
    result = runner.invoke(
        args=[
            "intel",
            "export-ftm",
            "--as",
            user,
            "--ids",
            ",".join(map(str, ids)),
            "--justification",
            "exchange with the FIU (ref 12/2026)",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    return out


def test_an_export_validates_with_followthemoney_and_imports_back_the_same(
    db, runner, make, unit_a, tmp_path
):
    out = _export_cli(runner, "officer.a", _ids(unit_a.unit_id), tmp_path)
    text = out.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    # followthemoney: each entity re-parses with no value dropped and passes its schema
    for row in rows:
        proxy = model.get_proxy(row, cleaned=False)
        proxy.schema.validate(row)
        assert proxy.to_dict()["properties"] == row["properties"]
    checked = CliRunner().invoke(ftm_validate, ["-i", str(out), "-o", "-"])
    assert checked.exit_code == 0, checked.output
    assert [json.loads(x)["properties"] for x in checked.output.splitlines()] == [
        r["properties"] for r in rows
    ]
    # Tollgate's own reader takes every line
    assert len(list(ftm.read_proxies(text.encode().splitlines()))) == len(rows)
    # imported by another unit, it is the same entities and links
    make.user(roles=["intelligence_officer"], username="officer.b")
    back = runner.invoke(
        args=["intel", "import-ftm", str(out), "--as", "officer.b", "--handling", "C"]
    )
    assert back.exit_code == 0, back.output
    db.session.rollback()
    unit_b = db.session.scalar(
        select(Entity.unit_id).where(Entity.unit_id != unit_a.unit_id).limit(1)
    )
    assert registry(unit_b) == registry(unit_a.unit_id)


def test_an_export_leaves_out_what_the_exporter_may_not_see(db, make, tmp_path):
    a = make.actor(make.user(roles=["intelligence_officer"]))
    b = make.actor(make.user(roles=["intelligence_officer"]))
    trader = service.create_entity("organisation", "Open Trader", actor=a, handling_code="P")
    secret = service.create_entity(
        "person",
        "SENTINEL-B-PERSON",
        actor=b,
        handling_code="C",
        identifiers={"passport": "SENTINEL77"},
    )
    service.add_link(secret.id, trader.id, "director_of", actor=b, handling_code="P")
    friend = service.create_entity("person", "Known Friend", actor=a, handling_code="P")
    service.add_link(friend.id, trader.id, "director_of", actor=a, handling_code="C")
    # a link unit B holds in code C between two entities A may see is left out too
    service.add_link(trader.id, friend.id, "employs", actor=b, handling_code="C")
    out = ftm_export.export_neighbourhood(trader.id, actor=a, justification="FIU request")
    body = out.body.decode()
    assert "SENTINEL" not in body
    assert "restricted" not in body  # left out, not renamed
    assert sorted(out.entities) == sorted([trader.id, friend.id])
    assert [json.loads(x)["schema"] for x in body.splitlines()].count("Directorship") == 1
    assert "Employment" not in body
    # B may not open the neighbourhood of A's code-C entity at all
    kept = service.create_entity("person", "Kept Close", actor=a, handling_code="C")
    with pytest.raises(NotFound):
        ftm_export.export_neighbourhood(kept.id, actor=b, justification="curious")


def test_an_export_needs_a_justification_and_is_trailed(db, make):
    a = make.actor(make.user(roles=["intelligence_officer"]))
    e = service.create_entity("person", "Ivan", actor=a)
    with pytest.raises(ValidationError) as err:
        ftm_export.export([e.id], actor=a, justification="  ", what="chart")
    assert "justification" in err.value.fields
    container = service.create_entity(
        "container", "CSQU3054383", actor=a, identifiers={"container": "CSQU3054383"}
    )
    out = ftm_export.export([e.id, container.id], actor=a, justification="FIU", what="chart")
    assert out.left_out == {"container": 1}
    row = db.session.scalars(select(AccessEvent).where(AccessEvent.action == "export")).one()
    assert row.justification == "FIU"
    details = json.loads(row.details)
    assert details["format"] == "ftm"
    assert details["entities"] == [e.id]


def test_nothing_to_export_is_refused(db, make):
    a = make.actor(make.user(roles=["intelligence_officer"]))
    with pytest.raises(ValidationError):
        ftm_export.export([999999], actor=a, justification="x", what="chart")


def test_the_cli_exports_an_entitys_neighbourhood(db, runner, unit_a, tmp_path):
    from app.extensions import db as _db

    ivan = _db.session.scalar(select(Entity.id).where(Entity.name == "Ivan Petrov"))
    out = tmp_path / "n.ftm.jsonl"
    result = runner.invoke(
        args=["intel", "export-ftm", "--as", "officer.a", "--entity", str(ivan),
              "--justification", "FIU", "-o", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {
        json.loads(x)["properties"].get("name", [None])[0]
        for x in out.read_text(encoding="utf-8").splitlines()
    }
    # Ivan's neighbours (the company, Olga, the truck, the address) but not the vessel,
    # which only the company touches
    assert {"Ivan Petrov", "Balkan Trading LLC", "Olga Petrova", "Scania R450"} <= names
    assert "Aurora Star" not in names
    refused = runner.invoke(
        args=["intel", "export-ftm", "--as", "officer.a", "--entity", str(ivan),
              "--justification", " "]
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "justification" in refused.output
