"""Post-clearance audit: behavioural trader ratings, the ML risk score and audit selection."""


def init_app(app):
    from app.audit import (
        cli,
        models,  # noqa: F401  (tables)
        views,
    )
    from app.audit.demo import load_audit_demo
    from app.audit.lifecycle import score_declaration, score_declarations
    from app.audit.service import current_ratings_for
    from app.audit.tasks import recompute_ratings_job, retrain_model_job
    from app.core.registry import (
        DemoLoader,
        HomePanel,
        NavItem,
        add_demo_loader,
        add_home_panel,
        add_nav_item,
    )
    from app.jobs.registry import JobSpec, add_job
    from app.risk import providers

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.audit_group)
    providers.register_rating_provider(current_ratings_for)
    providers.register_ml_scorer(score_declaration, many=score_declarations)
    add_nav_item(
        app,
        NavItem(
            "Audit",
            "audit.ratings",
            "audit.rating.view",
            order=60,
            children=(
                ("Trader ratings", "audit.ratings", "audit.rating.view"),
                ("Audit selection", "audit.selection_new", "audit.select"),
                ("Audit cases", "audit.audit_cases", "case.view"),
                ("ML models", "audit.models", "risk.model.manage"),
            ),
        ),
    )
    add_home_panel(
        app,
        HomePanel(
            "Audit",
            "audit/_home_panel.html",
            views.home_panel,
            permission="audit.rating.view",
            order=60,
        ),
    )
    # After the cases (order 30) and the declarations (risk, order 40) exist.
    add_demo_loader(app, DemoLoader("trader ratings and ML model", load_audit_demo, order=50))
    add_job(
        app,
        JobSpec(
            "audit-ratings", recompute_ratings_job, "cron", {"hour": 2}, "Recompute trader ratings"
        ),
    )
    add_job(
        app,
        JobSpec(
            "audit-retrain",
            retrain_model_job,
            "cron",
            {"day_of_week": "sun", "hour": 3},
            "Retrain the ML risk model",
        ),
    )
