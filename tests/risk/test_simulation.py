"""Simulation on history: vectorised figures checked against hand counts and pandas."""

import io

import numpy as np
import pandas as pd
import pytest

from app.core.errors import ValidationError
from app.risk import engine as engine_mod
from app.risk import simulation
from app.risk.importer import import_declarations
from app.security.access import Actor
from tests.risk.factories import cond, profile, tree

SYSTEM = Actor.system("test")
HEADER = "number,declaration_date,office,importer,hs_code,origin_country,value,mass_kg,fraud\n"


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _history(rows):
    import_declarations(io.StringIO(HEADER + "\n".join(rows) + "\n"), actor=SYSTEM)


def test_figures_on_a_small_history(db):
    _history(
        [
            "A1,2025-01-01,BCP-N,I1,0808100000,US,100,10,1",
            "A2,2025-01-02,BCP-N,I1,0808100000,US,100,10,0",
            "A3,2025-01-03,BCP-N,I2,0808100000,CN,100,10,1",
            "A4,2025-01-04,BCP-N,I2,8517620000,US,100,10,0",
            "A5,2025-02-04,BCP-N,I2,0808100000,US,100,10,1",
        ]
    )
    p = profile(
        conditions=tree(cond("hs_code", "prefix", ["0808"]), cond("origin", "eq", "US")),
        status="draft",
    )
    result = simulation.run_simulation([p.id], "2025-01-01", "2025-01-31", actor=SYSTEM)
    f = result["profiles"][p.id]
    assert (f["incoming"], f["selected"], f["labelled"], f["hits"]) == (4, 2, 2, 1)
    assert f["hit_rate"] == 0.5 and f["inspection_rate"] == 0.5
    # Released: A3 (fraud) and A4 (clean) → the estimated released non-compliant is 1 of 2.
    assert f["released"] == 2 and f["released_noncompliant_est"] == 1.0
    assert f["inspected_noncompliant"] == 1 and f["inspected_compliant"] == 1
    assert f["noncompliance_basis"].startswith("all inspected")
    assert p.status == "simulated" and p.last_simulation["selected"] == 2


def test_overlap_with_active_profiles_and_channels(db):
    _history(
        [
            f"B{n},2025-01-01,BCP-N,I{n % 3},0808100000,{'US' if n % 2 else 'CN'},"
            f"{100 * n},1,{n % 2}"
            for n in range(1, 21)
        ]
    )
    active = profile(conditions=tree(cond("origin", "eq", "US")), channel="yellow")
    draft = profile(conditions=tree(cond("value", "gte", 1000)), status="draft", channel="red")
    result = simulation.run_simulation([draft.id, active.id], actor=SYSTEM)
    f = result["profiles"][draft.id]
    assert f["selected"] == 11  # values 1000..2000
    assert f["overlap_active"] == 5  # US (odd n) among 10..20: 11, 13, 15, 17, 19
    combined = result["combined"]
    assert combined["by_channel"]["red"] == 11 and combined["by_channel"]["yellow"] == 5
    assert combined["by_channel"]["green"] == 4


def test_window_errors(db):
    with pytest.raises(ValidationError) as exc:
        simulation.parse_window("2025-13-01", None)
    assert "date_from" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        simulation.parse_window("2025-02-01", "2025-01-01")
    assert exc.value.fields == {"date_to": "is before date_from"}


def test_random_stratum_estimate(db):
    from app.risk.models import Declaration

    rows = [f"R{n},2025-01-01,BCP-N,I1,0808100000,US,100,1,{int(n % 4 == 0)}" for n in range(200)]
    _history(rows)
    # Mark the first 100 as the random stratum: its non-compliance rate is 25%.
    for decl in db.session.query(Declaration).filter(
        Declaration.number.in_([f"R{n}" for n in range(100)])
    ):
        decl.is_random_selected = True
    db.session.flush()
    p = profile(conditions=tree(cond("value", "gt", 1000)), status="draft")
    f = simulation.run_simulation([p.id], actor=SYSTEM)["profiles"][p.id]
    assert f["noncompliance_basis"] == "random stratum"
    assert f["noncompliance_rate"] == 0.25 and f["released_noncompliant_est"] == 50.0


def test_vectorised_masks_match_the_engine_closures(db):
    """Every operator gives the same selection in the simulation and in real time."""
    from datetime import UTC, datetime

    from app.risk import rules

    rng = np.random.default_rng(3)
    n = 3000
    raw = pd.DataFrame(
        {
            "decl_idx": np.arange(n),
            "order": np.arange(n),
            "office": rng.choice(["A", "B", "C"], n),
            "importer": rng.choice(["I1", "I2", None], n),
            "hs_code": rng.choice(["0808100000", "8517620000", "2402200000"], n),
            "origin": rng.choice(["US", "CN", None], n),
            "value": rng.uniform(0, 1000, n),
            "mass": rng.choice([0.0, 1.0, 10.0], n),
            "tax_rate": rng.choice([0.0, 8.0], n),
        }
    )
    frame = simulation.build_frame(raw.copy())
    trees = [
        tree(cond("hs_code", "prefix", ["0808", "24"]), cond("origin", "ne", "CN")),
        tree(cond("office", "in", ["A", "C"]), cond("value", "between", [100, 500]), join="or"),
        tree(cond("importer", "not_in", ["I1"]), cond("unit_value", "gt", 50)),
        tree(cond("first_importer_chapter", "is_true"), cond("tax_rate", "eq", 8)),
        tree(cond("unit_value_deviation", "lt", -30)),
    ]
    now = datetime.now(UTC)
    for t in trees:
        rules.validate(t)
        mask = rules.tree_mask(t, frame, {})
        fn = rules.compile_tree(t, {})
        loop = []
        for row in frame.itertuples(index=False):

            def val(x):
                return None if x is None or (isinstance(x, float) and np.isnan(x)) else x

            d = {"office": val(row.office), "importer": val(row.importer)}
            it = {
                "hs_code": row.hs_code,
                "origin": val(row.origin),
                "value": row.value,
                "mass": row.mass,
                "tax_rate": row.tax_rate,
                "unit_value": val(row.unit_value),
                "unit_value_deviation": val(row.unit_value_deviation),
                "first_importer_chapter": bool(row.first_importer_chapter),
            }
            loop.append(fn(d, it))
        assert mask.tolist() == loop, rules.describe(t)
        assert now  # same clock for both paths


@pytest.mark.data
def test_kcs_simulation_matches_pandas(db, shared_data):
    path = shared_data / "kcs" / "train.csv"
    import_declarations(path, actor=SYSTEM)
    p = profile(
        conditions=tree(
            cond("origin", "in", ["CN", "VN"]),
            tree(
                cond("hs_code", "prefix", ["61", "62", "8471"]),
                cond("tax_rate", "gte", 8),
                join="or",
            ),
        ),
        status="draft",
    )
    result = simulation.run_simulation([p.id], "2020-03-01", "2020-08-31", actor=SYSTEM)
    f = result["profiles"][p.id]
    # Independently: pandas over the CSV itself.
    df = pd.read_csv(path, dtype={"HS6 Code": str, "Declaration ID": str})
    df = df[(df["Date"] >= "2020-03-01") & (df["Date"] <= "2020-08-31")]
    sel = df["Country of Origin"].isin(["CN", "VN"]) & (
        df["HS6 Code"].str.startswith(("61", "62", "8471")) | (df["Tax Rate"] >= 8)
    )
    assert f["incoming"] == len(df)
    assert f["selected"] == int(sel.sum())
    assert f["hits"] == int(df.loc[sel, "Fraud"].sum())
    assert f["hit_rate"] == pytest.approx(df.loc[sel, "Fraud"].mean())
    assert f["released_noncompliant_est"] == pytest.approx(df.loc[~sel, "Fraud"].sum(), abs=0.1)
    assert f["noncompliance_rate"] == pytest.approx(df["Fraud"].mean())
