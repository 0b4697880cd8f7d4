"""Operations: backup and restore, retention and review, and the scheduler heartbeat."""

from app.core.registry import NavItem, add_nav_item


def init_app(app):
    from app.jobs.registry import JobSpec, add_job
    from app.ops import cli, models, views  # noqa: F401  (models: tables)
    from app.ops.retention import add_retention_source, run_review_job, trail_source

    app.register_blueprint(views.bp)
    cli.init_app(app)
    add_nav_item(app, NavItem("Retention", "ops.retention_page", "admin.reference", order=960))
    add_retention_source(app, trail_source(app.config))
    from app.ops import retention_sources

    retention_sources.register(app)  # cases, reports, entities, declarations, articles
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
