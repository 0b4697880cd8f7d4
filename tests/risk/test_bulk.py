"""Bulk storage and assessment (app.risk.bulk, used by the demo loader) give each
declaration exactly what submitting it one by one through the service gives."""

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.audit import lifecycle
from app.audit import service as audit
from app.extensions import db
from app.risk import engine as engine_mod
from app.risk.assessment import parse_declaration, submit_declaration
from app.risk.bulk import assess_stored, load_declarations, store_declarations
from app.risk.derived import refresh_peer_medians
from app.risk.models import Declaration, ProfileHit
from app.risk.service import owning_unit_id
from app.security.access import Actor
from tests.audit.factories import FAST_PARAMS, import_rows, synthetic_history
from tests.risk.factories import body, cond, item, profile, tree

SYSTEM = Actor.system("test")
COLUMNS = (
    "channel",
    "engine_channel",
    "random_seed",
    "random_draw",
    "random_channel",
    "is_random_selected",
    "ml_score",
    "trader_rating",
    "engine_version",
)


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()
    yield
    engine_mod.reset_cache()


def _bodies():
    return [
        body(
            "BULK-001",
            importer="IMP-000",
            items=[
                item(hs_code="8517620000", value=50.0, mass=100.0),
                item(hs_code="6109100000", origin="VN", departure="VN"),
            ],
        ),
        body("BULK-002", importer="NEW-IMP-2", items=[item(hs_code="6109100000", origin="VN")]),
        # The same importer and chapter again: no longer its first declaration of chapter 61.
        body("BULK-003", importer="NEW-IMP-2", items=[item(hs_code="6109900000", origin="TR")]),
        body(
            "BULK-004",
            importer="NEW-IMP",
            declarant="DCL-9",
            items=[item(hs_code="9403600000", origin="DE"), item(hs_code="8517620000")],
        ),
        body("BULK-005", importer="IMP-001", items=[item(hs_code="3004900000", mass=0.0)]),
    ]


def _snapshot(numbers):
    decls = db.session.scalars(select(Declaration).where(Declaration.number.in_(numbers)))
    out = {}
    for d in decls:
        assessment = dict(d.assessment)
        assessment.pop("assessed_dt")
        hits = sorted(
            (h.profile_id, h.profile_version, h.channel, tuple(h.item_lines))
            for h in db.session.scalars(select(ProfileHit).where(ProfileHit.declaration_id == d.id))
        )
        out[d.number] = {
            "assessment": assessment,
            "columns": {c: getattr(d, c) for c in COLUMNS},
            "item_ml": [i.ml_score for i in d.items],
            "hits": hits,
        }
    return out


def test_bulk_assessment_matches_one_by_one_submission(make):
    make.user(roles=["supervisor"])
    # History with control results: peer medians, trader ratings and an active ML model.
    import_rows(synthetic_history(400))
    refresh_peer_medians()
    model = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(model.version, actor=SYSTEM)
    audit.compute_ratings(actor=SYSTEM)
    profile(
        name="Phones far below peers",
        channel="red",
        conditions=tree(
            cond("hs_code", "prefix", ["8517"]), cond("unit_value_deviation", "lt", -50)
        ),
        is_sensitive=True,
        recipients={"users": [], "units": [], "roles": ["supervisor"]},
    )
    profile(
        name="First time in the chapter",
        channel="yellow",
        conditions=tree(cond("first_importer_chapter", "is_true")),
    )
    profile(
        name="Rated importers",
        channel="orange",
        conditions=tree(cond("trader_rating", "gte", 0)),
    )
    profile(
        name="Vietnamese T-shirts",
        channel="blue",
        conditions=tree(cond("hs_code", "prefix", ["6109"]), cond("origin", "eq", "VN")),
    )
    db.session.commit()
    bodies = _bodies()
    numbers = [b["number"] for b in bodies]

    savepoint = db.session.begin_nested()
    for b in bodies:
        submit_declaration(b, actor=SYSTEM, link_entities=False)
    db.session.flush()
    expected = _snapshot(numbers)
    expected_alerts = db.session.scalar(
        select(func.count()).select_from(Alert).where(Alert.source_kind == "profile")
    )
    savepoint.rollback()
    db.session.commit()

    unit_id = owning_unit_id(SYSTEM)
    ids = store_declarations(
        [parse_declaration(b) for b in bodies], actor=SYSTEM, unit_id=unit_id, source="api"
    )
    assess_stored(load_declarations(ids), actor=SYSTEM)
    db.session.flush()
    got = _snapshot(numbers)

    assert set(got) == set(numbers)
    for number in numbers:
        assert got[number] == expected[number], number
    # The run exercised what it is meant to compare.
    everything = list(expected.values())
    assert any(e["assessment"]["ml"] for e in everything)
    assert any(e["assessment"]["trader_rating"] for e in everything)
    fired = {p["name"] for e in everything for p in e["assessment"]["profiles"]}
    assert fired == {
        "Phones far below peers",
        "First time in the chapter",
        "Rated importers",
        "Vietnamese T-shirts",
    }

    def fired_on(number):
        return {p["name"] for p in expected[number]["assessment"]["profiles"]}

    assert "First time in the chapter" in fired_on("BULK-002")
    assert "First time in the chapter" not in fired_on("BULK-003")
    assert expected_alerts > 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.source_kind == "profile")
        )
        == expected_alerts
    )
