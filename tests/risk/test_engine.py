"""The selectivity engine: operators, lists, index, precedence, rates, random draws."""

import pytest

from app.core.errors import ValidationError
from app.risk import engine as engine_mod
from app.risk import profiles, rules
from app.risk.assessment import reproduce_draw
from app.risk.settings import set_ml_threshold, set_rates
from app.security.access import Actor
from tests.risk.factories import body, cond, item, no_random, profile, submit, tree

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()
    yield
    engine_mod.reset_cache()


# Each operator: a condition that must fire and one that must not, on the same item.
ITEM = {
    "hs_code": "0808100000",
    "origin": "US",
    "departure": "CA",
    "value": 500.0,
    "mass": 100.0,
    "tax_rate": 8.0,
    "tax_type": "A",
    "origin_indicator": "Y",
}
OPERATOR_CASES = [
    (cond("hs_code", "prefix", ["0808"]), cond("hs_code", "prefix", ["0809", "08082"])),
    (cond("hs_code", "not_prefix", ["0809"]), cond("hs_code", "not_prefix", ["08"])),
    (cond("hs_code", "eq", "0808100000"), cond("hs_code", "eq", "0808")),
    (cond("hs_code", "in", ["0808", "9999"]), cond("hs_code", "in", ["0809"])),
    (cond("origin", "eq", "us"), cond("origin", "eq", "CA")),
    (cond("origin", "ne", "CA"), cond("origin", "ne", "US")),
    (cond("origin", "in", ["US", "MX"]), cond("origin", "in", ["MX"])),
    (cond("origin", "not_in", ["MX"]), cond("origin", "not_in", ["US"])),
    (cond("departure", "eq", "CA"), cond("departure", "eq", "US")),
    (cond("value", "gt", 499), cond("value", "gt", 500)),
    (cond("value", "gte", 500), cond("value", "gte", 500.01)),
    (cond("mass", "lt", 101), cond("mass", "lt", 100)),
    (cond("mass", "lte", 100), cond("mass", "lte", 99.9)),
    (cond("unit_value", "between", [4, 6]), cond("unit_value", "between", [5.1, 9])),
    (cond("tax_rate", "eq", 8), cond("tax_rate", "eq", 0)),
    (cond("tax_type", "eq", "A"), cond("tax_type", "eq", "C")),
    (cond("origin_indicator", "in", ["Y", "B"]), cond("origin_indicator", "in", ["E"])),
    (cond("office", "eq", "BCP-N"), cond("office", "eq", "PORT-S")),
    (cond("importer", "in", ["IMP001"]), cond("importer", "in", ["IMP002"])),
    (cond("declarant", "eq", "DCL001"), cond("declarant", "ne", "DCL001")),
    (cond("seller", "eq", "SEL001"), cond("seller", "eq", "X")),
    (cond("transport_mode", "prefix", ["3"]), cond("transport_mode", "prefix", ["4"])),
    (cond("procedure", "eq", "4000"), cond("procedure", "eq", "1000")),
    (cond("first_importer_chapter", "is_true"), cond("first_importer_chapter", "is_false")),
    (cond("hs_code", "in_list", "Fruit"), cond("hs_code", "not_in_list", "Fruit")),
    (cond("origin", "in_list", "Americas"), cond("origin", "not_in_list", "Americas")),
]


@pytest.mark.parametrize(("fires", "silent"), OPERATOR_CASES)
def test_every_operator_fires_and_stays_silent(db, fires, silent):
    no_random()
    profiles.save_list("Fruit", "hs_code", ["0808", "0805"], actor=SYSTEM)
    profiles.save_list("Americas", "country", ["US", "MX"], actor=SYSTEM)
    hit = profile(conditions=tree(fires), name="fires")
    profile(conditions=tree(silent), name="silent")
    decl = submit(body(items=[ITEM]))
    codes = [p["code"] for p in decl.assessment["profiles"]]
    assert codes == [hit.code], rules.describe(tree(fires))
    assert decl.channel == "red"


def test_named_lists_and_or_groups(db):
    no_random()
    profiles.save_list("Watched importers", "trader", "IMP9, IMP001", actor=SYSTEM)
    profiles.save_list("Fruit", "hs_code", ["0808", "0805"], actor=SYSTEM)
    profiles.save_list("Americas", "country", ["us", "mx"], actor=SYSTEM)
    p = profile(
        conditions=tree(
            cond("importer", "in_list", "Watched importers"),
            tree(
                cond("hs_code", "in_list", "Fruit"),
                cond("origin", "in_list", "Americas"),
                join="or",
            ),
        )
    )
    neg = profile(conditions=tree(cond("origin", "not_in_list", "Americas")), channel="yellow")
    fired = submit(body(items=[ITEM]))
    assert [h["code"] for h in fired.assessment["profiles"]] == [p.code]
    other = submit(body(importer="IMP777", items=[ITEM]))
    assert other.assessment["profiles"] == []
    chinese = submit(body(items=[item(hs_code="0805100000")]))
    assert {h["code"] for h in chinese.assessment["profiles"]} == {p.code, neg.code}
    # Changing a list applies at once (engine version bump), no restart.
    profiles.save_list("Watched importers", "trader", ["IMP777"], actor=SYSTEM)
    again = submit(body(importer="IMP777", items=[ITEM]))
    assert [h["code"] for h in again.assessment["profiles"]] == [p.code]


def test_item_matching_is_per_item(db):
    no_random()
    p = profile(conditions=tree(cond("hs_code", "prefix", ["0808"]), cond("origin", "eq", "US")))
    # Apples from China and phones from the US: no single item matches both conditions.
    decl = submit(
        body(
            items=[item(hs_code="0808100000", origin="CN"), item(hs_code="8517620000", origin="US")]
        )
    )
    assert decl.assessment["profiles"] == []
    decl = submit(body(items=[item(), item(hs_code="0808100000", origin="US")]))
    assert decl.assessment["profiles"][0]["items"] == [2]
    assert decl.assessment["profiles"][0]["code"] == p.code
    assert "HS code starts with 0808 (0808100000)" in decl.assessment["profiles"][0]["matched"]


def test_precedence_highest_channel_wins_and_order(db):
    no_random()
    yellow = profile(conditions=tree(cond("origin", "eq", "CN")), channel="yellow")
    red = profile(conditions=tree(cond("hs_code", "prefix", ["85"])), channel="red")
    orange = profile(conditions=tree(cond("value", "gt", 10)), channel="orange")
    decl = submit(body())
    assert decl.channel == "red"
    assert [h["code"] for h in decl.assessment["profiles"]] == [red.code, orange.code, yellow.code]
    profiles.set_status(red.id, "retired", actor=SYSTEM)
    assert submit(body()).channel == "orange"


def test_validity_window_and_status(db):
    no_random()
    profile(conditions=tree(cond("origin", "eq", "CN")), valid_from="2099-01-01")
    profile(conditions=tree(cond("origin", "eq", "CN")), status="simulated")
    profile(conditions=tree(cond("origin", "eq", "CN")), status="draft")
    assert submit(body()).channel == "green"


def test_index_gives_same_hits_as_evaluating_every_profile(db):
    import random

    no_random()
    rng = random.Random(7)
    hs = ["0808", "8517", "6109", "2402", "3004", "8703"]
    countries = ["CN", "US", "TR", "VN", "DE"]
    for n in range(60):
        parts = [cond("hs_code", "prefix", [rng.choice(hs)])]
        if n % 3 == 0:
            parts = [cond("origin", "eq", rng.choice(countries))]
        if n % 5 == 0:
            parts = [cond("value", "gt", rng.choice([100, 1000, 5000]))]
        parts.append(cond("mass", "gte", rng.choice([0, 5, 50])))
        profile(
            conditions=tree(*parts, join=rng.choice(["and", "and", "or"])),
            channel=rng.choice(["yellow", "red", "orange", "blue"]),
        )
    engine = engine_mod.get_engine()
    assert engine.unanchored, "value-only profiles must be evaluated for every declaration"
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for _ in range(300):
        d = {"office": "BCP-N", "importer": "IMP001"}
        items = [
            {
                "hs_code": rng.choice(hs) + "100000",
                "origin": rng.choice(countries),
                "value": rng.choice([50.0, 500.0, 6000.0]),
                "mass": rng.choice([1.0, 20.0]),
            }
            for _ in range(rng.randint(1, 4))
        ]
        fast = [(p.id, m) for p, m in engine.evaluate(d, items, now)]
        slow = [(p.id, m) for p, m in engine.evaluate_all(d, items, now)]
        assert fast == slow
        assert len(engine.candidates(d, items)) < 60


def test_random_draws_are_reproducible_and_follow_rates(db):
    set_rates(
        {
            "red": {"target_rate": 0.1, "min_random_rate": 0.10},
            "yellow": {"target_rate": 0.1, "min_random_rate": 0.20},
        },
        actor=SYSTEM,
    )
    decls = [submit(body()) for _ in range(400)]
    for decl in decls[:20]:
        assert reproduce_draw(decl) == decl.random_draw
        assert decl.random_seed.endswith(":" + decl.number)
    red = sum(d.channel == "red" for d in decls)
    yellow = sum(d.channel == "yellow" for d in decls)
    # Draw u < 0.10 → red, 0.10 <= u < 0.30 → yellow.
    assert all((d.channel == "red") == (d.random_draw < 0.10) for d in decls)
    assert all((d.channel == "yellow") == (0.10 <= d.random_draw < 0.30) for d in decls)
    assert 20 <= red <= 65 and 50 <= yellow <= 115
    assert all(d.is_random_selected == (d.random_draw < 0.30) for d in decls)


def test_random_never_lowers_a_profile_channel(db):
    set_rates({"yellow": {"target_rate": 0.1, "min_random_rate": 0.45}}, actor=SYSTEM)
    profile(conditions=tree(cond("origin", "eq", "CN")), channel="red")
    decls = [submit(body()) for _ in range(40)]
    assert all(d.channel == "red" for d in decls)
    assert any(d.is_random_selected for d in decls)


def test_rates_are_validated(db):
    with pytest.raises(ValidationError) as exc:
        set_rates(
            {
                "red": {"target_rate": 2, "min_random_rate": 0.3},
                "yellow": {"target_rate": 0.1, "min_random_rate": 0.3},
                "purple": {},
            },
            actor=SYSTEM,
        )
    assert exc.value.fields["red.target_rate"] == "must be between 0 and 1"
    assert "purple" in exc.value.fields
    officer = Actor(user_id=None, username="o", unit_id=None, permissions=frozenset())
    from app.security.access import AccessDenied

    with pytest.raises(AccessDenied):
        set_rates({}, actor=officer)


def test_ml_score_and_trader_rating_providers(db):
    from app.risk import providers

    no_random()
    saved = providers._ml_scorer, providers._rating_provider
    providers.register_ml_scorer(
        lambda decl, items: [
            {"score": 0.9 if i.hs_code.startswith("24") else 0.1, "explanation": "hs"}
            for i in items
        ]
    )
    providers.register_rating_provider(lambda codes: {c: 85 for c in codes if c == "BAD1"})
    try:
        set_ml_threshold(0.8, "orange", actor=SYSTEM)
        p = profile(conditions=tree(cond("trader_rating", "gte", 80)), channel="yellow")
        decl = submit(body(importer="BAD1", items=[item(hs_code="2402200000")]))
        assert decl.channel == "orange" and decl.ml_score == 0.9
        assert decl.assessment["profiles"][0]["code"] == p.code
        assert decl.assessment["trader_rating"] == {"code": "BAD1", "rating": 85.0}
        assert "ml_score" in decl.assessment["reasons"]
        plain = submit(body(importer="GOOD", items=[item()]))
        assert plain.channel == "green" and plain.trader_rating is None
    finally:
        providers._ml_scorer, providers._rating_provider = saved


def test_a_failing_provider_does_not_fail_the_assessment(db):
    from app.risk import providers

    def broken(codes):
        raise RuntimeError("rating service down")

    saved = providers._rating_provider
    providers.register_rating_provider(broken)
    try:
        assert submit(body()).channel in ("green", "yellow", "red")
    finally:
        providers._rating_provider = saved


def test_derived_first_for_chapter_and_unit_value_deviation(db):
    from app.risk.derived import refresh_peer_medians

    no_random()
    first = profile(conditions=tree(cond("first_importer_chapter", "is_true")), channel="yellow")
    submit(body(importer="NEW1", items=[item(value=100.0, mass=1.0)]))
    for _ in range(4):
        submit(body(importer="OLD", items=[item(value=100.0, mass=1.0)]))
    refresh_peer_medians()
    cheap = profile(conditions=tree(cond("unit_value_deviation", "lt", -50)), channel="red")
    again = submit(body(importer="NEW1", items=[item(value=100.0, mass=1.0)]))
    assert again.assessment["profiles"] == []
    low = submit(body(importer="NEW2", items=[item(value=10.0, mass=1.0)]))
    assert [h["code"] for h in low.assessment["profiles"]] == [cheap.code, first.code]


def test_a_replaced_database_is_not_served_a_stale_engine(db):
    """A restored or emptied database counts versions from 1 again: the cached engine of the
    old one must not be reused just because the numbers match."""
    from app.risk.models import EngineState, RiskProfile

    engine_mod.reset_cache()
    old = engine_mod.get_engine()
    assert old.profiles == {}
    version = old.version
    # The database is replaced: a new state row with the same version, a profile added
    # behind the cache's back (as a restore would bring it).
    db.session.delete(db.session.get(EngineState, 1))
    db.session.flush()
    no_random()
    p = profile(name="Restored", conditions=tree(cond("hs_code", "prefix", ["0808"])))
    state = db.session.get(EngineState, 1)
    state.version = version
    db.session.flush()
    assert db.session.get(RiskProfile, p.id).status == "active"
    _cache = engine_mod._cache
    _cache["engine"] = old  # as if this process had compiled the old database's profiles
    assert set(engine_mod.get_engine().profiles) == {p.id}
