from datetime import date

from app.audit.models import AuditSelection, AuditSelectionLine, RiskModel, TraderRating
from tests.access.spec import Route

_ARTIFACT = {}


def _artifact():
    """A real (tiny) model, trained once per session."""
    if "json" not in _ARTIFACT:
        import pandas as pd

        from app.audit import ml
        from tests.audit.factories import FAST_PARAMS, synthetic_history

        raw = pd.DataFrame(synthetic_history(200)).rename(columns=ml.KCS_COLUMNS)
        raw["label"] = raw["label"].astype(int)
        frame = ml.normalise_frame(raw)
        _ARTIFACT["json"] = ml.train_model(frame, frame["label"].to_numpy(), FAST_PARAMS).to_json()
    return _ARTIFACT["json"]


def build(world):
    db = world.make.db
    rating = TraderRating(
        role="importer",
        trader_code="IMP-SENT",
        entity_id=4242,
        score=80.0,
        band="high",
        factors=[{"text": world.SENTINEL, "points": 1.0, "area": None}],
        risk_areas=["valuation"],
        model_version="behaviour-1",
        as_of=date(2026, 1, 1),
    )
    db.session.add(rating)
    world.rating = rating
    # A trader code is named only to who may see a declaration bearing it (seam rule).
    from tests.audit.factories import import_rows, kcs_row

    import_rows([kcs_row(day=date(2026, 1, 1), importer="IMP-SENT")])
    world.model = RiskModel(
        version=1,
        status="trained",
        metrics={"precision_at_5": 0.9},
        params={},
        score_deciles=[],
        artifact=_artifact(),
        trained_by_name="test",
    )
    db.session.add(world.model)
    selection = AuditSelection(
        unit_id=world.unit_a.id,
        handling_code="C",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        capacity=1,
        random_share=0.0,
        seed="x",
        created_by_name=world.SENTINEL,
    )
    selection.lines.append(
        AuditSelectionLine(
            rank=1,
            role="importer",
            trader_code="IMP-SENT",
            score=80.0,
            reason="rating",
            risk_areas=["valuation"],
            factors=[world.SENTINEL],
        )
    )
    db.session.add(selection)
    db.session.flush()
    world.selection = selection
    from app.cases import service as cases
    from app.security.access import Actor

    world.pca_case = cases.open_case(
        "audit",
        actor=Actor.for_user(world.users["supervisor"]),
        handling_code="C",
        title=f"Audit {world.SENTINEL}",
    )


ROUTES = [
    Route("audit.ratings", perm="audit.rating.view"),
    Route("audit.recompute", perm="audit.select"),
    Route(
        "audit.trader",
        perm="audit.rating.view",
        args=lambda w: {"role": "importer", "code": "IMP-SENT"},
    ),
    Route("audit.entity_rating", perm="audit.rating.view", args=lambda w: {"entity_id": 4242}),
    Route("audit.selection_new", perm="audit.select"),
    Route(
        "audit.selection_view",
        perm="audit.select",
        restricted=True,
        args=lambda w: {"selection_id": w.selection.id},
    ),
    Route(
        "audit.selection_confirm",
        perm="audit.select",
        restricted=True,
        args=lambda w: {"selection_id": w.selection.id},
    ),
    Route("audit.models", perm="risk.model.manage"),
    Route(
        "audit.model_view", perm="risk.model.manage", args=lambda w: {"version": w.model.version}
    ),
    Route("audit.model_train", perm="risk.model.manage"),
    Route(
        "audit.model_activate",
        perm="risk.model.manage",
        args=lambda w: {"version": w.model.version},
    ),
    Route("audit.model_rollback", perm="risk.model.manage"),
    Route("audit.settings_update", perm="risk.model.manage"),
    Route("audit.audit_cases", perm="case.view"),
    Route(
        "audit.audit_case",
        perm="case.view",
        restricted=True,
        args=lambda w: {"case_id": w.pca_case.id},
    ),
    Route(
        "audit.record_debt",
        perm="case.edit",
        restricted=True,
        args=lambda w: {"case_id": w.pca_case.id},
        body=lambda w: {"kind": "vat", "amount": "10"},
    ),
]
