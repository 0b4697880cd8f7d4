"""Operations: backup and restore, retention and review, and the scheduler heartbeat."""

from app.core.registry import NavItem, add_nav_item


def init_app(app):
    from app.jobs.registry import JobSpec, add_job
    from app.ops import cli, models, views  # noqa: F401  (models: tables)
    from app.ops.retention import init_sources, run_review_job

    app.register_blueprint(views.bp)
    cli.init_app(app)
    add_nav_item(app, NavItem("Retention", "ops.retention_page", "admin.reference", order=960))
    # the trail's own source; each domain registers its records' sources (app.core.retention)
    init_sources(app)
    add_job(
        app,
        JobSpec(
            "ops.retention-review",
            run_review_job,
            "cron",
            {"hour": 2, "minute": 17},
            "Queue records past their review date (LED 2016/680 Art. 5)",
        ),
    )
    if app.config.get("TOLLGATE_TEST_JOBS"):
        from app.ops import heartbeat

        heartbeat.register(app)
