"""Pages and commands of the audit domain, through the test client and CLI runner."""

import json
from datetime import date, timedelta

from sqlalchemy import select

from app.audit import lifecycle, service
from app.audit.models import AuditSelection, RiskModel
from app.security.access import Actor
from app.security.trail import AccessEvent
from tests.audit.factories import (
    FAST_PARAMS,
    csv_text,
    import_rows,
    kcs_row,
    synthetic_history,
)

SYSTEM = Actor.system("test")


def _rated(db):
    rows = [
        kcs_row(day=date(2025, 5, 1) + timedelta(days=i), importer=f"IMP-{i % 6}", fraud=i % 6 == 0)
        for i in range(60)
    ]
    import_rows(rows)
    service.compute_ratings(actor=SYSTEM, as_of=date(2025, 7, 31))
    db.session.commit()


def test_ratings_list_and_trader_report(db, client, login_as):
    _rated(db)
    login_as("pca_auditor")
    page = client.get("/audit/?band=high").get_data(as_text=True)
    assert "IMP-0" in page and "IMP-1<" not in page
    report = client.get("/audit/traders/importer/IMP-0")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert "10 of 10 inspected declarations non-compliant in 12 months" in text
    assert client.get("/audit/traders/importer/NOBODY").status_code == 404
    assert client.get("/audit/?band=purple").status_code == 302
    db.session.rollback()
    views = db.session.scalars(
        select(AccessEvent.record_id).where(
            AccessEvent.record_type == "trader_rating", AccessEvent.action == "view"
        )
    ).all()
    assert views == ["importer:IMP-0"]


def test_recompute_from_the_page(db, client, login_as):
    import_rows([kcs_row(day=date(2025, 5, 1), importer="IMP-X", fraud=1)])
    db.session.commit()
    login_as("pca_auditor")
    resp = client.post(
        "/audit/ratings/recompute", data={"as_of": "2025-06-30"}, follow_redirects=True
    )
    assert "Ratings recomputed as of 2025-06-30: 2 traders rated" in resp.get_data(as_text=True)
    assert service.current_ratings_for(["IMP-X"])


def test_selection_flow_through_the_forms(db, client, login_as):
    _rated(db)
    login_as("pca_auditor")
    bad = client.post(
        "/audit/selection/new",
        data={
            "capacity": "0",
            "period_start": "2025-05-01",
            "period_end": "2025-06-30",
            "role": "importer",
            "audit_type": "desk",
        },
    )
    assert bad.status_code == 200 and 'class="error"' in bad.get_data(as_text=True)
    resp = client.post(
        "/audit/selection/new",
        data={
            "capacity": "3",
            "period_start": "2025-05-01",
            "period_end": "2025-06-30",
            "random_share": "0",
            "role": "importer",
            "audit_type": "field",
        },
    )
    assert resp.status_code == 302
    db.session.rollback()
    selection = db.session.scalars(select(AuditSelection)).one()
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Confirm and open audit cases" in page
    chosen = [line for line in selection.lines if line.is_selected][:2]
    data = {
        "line": [str(line.id) for line in chosen],
        f"areas-{chosen[0].id}": ["origin", "classification"],
    }
    done = client.post(f"/audit/selection/{selection.id}/confirm", data=data, follow_redirects=True)
    assert "2 audit cases opened." in done.get_data(as_text=True)
    db.session.rollback()
    from app.cases.models import Case

    cases = db.session.scalars(select(Case).where(Case.kind == "audit")).all()
    assert sorted(c.audit_type for c in cases) == ["field", "field"]
    assert ["origin", "classification"] in [c.risk_areas for c in cases]


def test_model_pages_activate_and_roll_back(db, client, login_as):
    import_rows(synthetic_history(400, seed=8))
    v1 = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    v2 = lifecycle.train_from_history(actor=SYSTEM, params={**FAST_PARAMS, "seed": 3})
    db.session.commit()
    login_as("risk_analyst")
    page = client.get("/audit/models").get_data(as_text=True)
    assert "v1" in page and "v2" in page and "No active model." in page
    assert client.get(f"/audit/models/{v1.version}").status_code == 200
    assert client.get("/audit/models/99").status_code == 404
    client.post(f"/audit/models/{v1.version}/activate")
    client.post(f"/audit/models/{v2.version}/activate")
    db.session.rollback()
    assert db.session.get(RiskModel, v2.id).status == "active"
    client.post("/audit/models/rollback")
    db.session.rollback()
    assert db.session.get(RiskModel, v1.id).status == "active"
    assert db.session.get(RiskModel, v2.id).status == "retired"
    resp = client.post(
        "/audit/settings",
        data={
            "exploration_share": "0.9",
            "recent_audit_months": "12",
            "rating_window_months": "12",
        },
        follow_redirects=True,
    )
    assert "exploration_share" in resp.get_data(as_text=True)
    client.post(
        "/audit/settings",
        data={
            "exploration_share": "0.12",
            "recent_audit_months": "12",
            "rating_window_months": "6",
        },
    )
    db.session.rollback()
    assert service.get_settings().exploration_share == 0.12


def test_evaluate_command_prints_every_figure(runner, tmp_path):
    rows = synthetic_history(900, seed=11, start=date(2025, 1, 1))
    early = [r for r in rows if r["Date"] < "2025-09-01"]
    late = [r for r in rows if r["Date"] >= "2025-09-01"]
    (tmp_path / "train.csv").write_text(csv_text(early))
    (tmp_path / "test.csv").write_text(csv_text(late))
    args = [
        "audit",
        "evaluate",
        "--train",
        str(tmp_path / "train.csv"),
        "--test",
        str(tmp_path / "test.csv"),
    ]
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    keys = {
        "precision_at_1",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
    }
    assert keys <= set(figures) and keys <= set(figures["baseline"])
    for key in ("trader_precision_at_5", "trader_base_rate", "train_s", "score_ms_per_item"):
        assert figures[key] is not None
    assert figures["test_rows"] == len(late)
    assert figures["auc"] > 0.6
    text = runner.invoke(args=args)
    assert text.exit_code == 0 and "precision_at_5" in text.output and "baseline" in text.output


def test_evaluate_command_names_a_bad_row(runner, tmp_path):
    rows = synthetic_history(50)
    rows[3]["Date"] = "2025-13-45"
    (tmp_path / "train.csv").write_text(csv_text(rows))
    (tmp_path / "test.csv").write_text(csv_text(synthetic_history(20)))
    result = runner.invoke(
        args=[
            "audit",
            "evaluate",
            "--train",
            str(tmp_path / "train.csv"),
            "--test",
            str(tmp_path / "test.csv"),
        ]
    )
    assert result.exit_code != 0
    assert "row 5" in result.output or "line 5" in result.output, result.output


def test_entity_link_leads_to_the_trader_report(db, client, login_as):
    from app.audit.models import TraderRating

    _rated(db)
    rating = db.session.scalars(
        select(TraderRating).filter_by(trader_code="IMP-0", role="importer")
    ).one()
    rating.entity_id = 777
    db.session.commit()
    login_as("intelligence_officer")
    resp = client.get("/audit/entities/777")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        "/audit/traders/importer/IMP-0"
    )
    assert client.get("/audit/entities/778").status_code == 404


def test_demo_loader_rates_and_trains(db):
    from app.audit.demo import load_audit_demo

    import_rows(synthetic_history(400, seed=2))
    load_audit_demo({})
    assert lifecycle.active_model() is not None
    assert service.band_counts()


def test_trader_names_from_the_registry(db, client, login_as):
    """Issue 18: a trader code is shown with the registry's name (to who may see it)."""
    from app.audit.models import TraderRating
    from app.intel import service as intel

    _rated(db)
    entity = intel.ensure_organisation("trader_code", "IMP-0", "Zero Imports Ltd", actor=SYSTEM)
    rating = db.session.scalars(
        select(TraderRating).filter_by(trader_code="IMP-0", role="importer", is_current=True)
    ).one()
    rating.entity_id = entity.id
    db.session.commit()
    login_as("pca_auditor")
    assert "Zero Imports Ltd" in client.get("/audit/?q=IMP-0").get_data(as_text=True)
    report = client.get("/audit/traders/importer/IMP-0").get_data(as_text=True)
    assert "Zero Imports Ltd (IMP-0)" in report
