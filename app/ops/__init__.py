"""Operations: backup and restore, retention and review, and the scheduler heartbeat."""

import os

from app.core.registry import NavItem, add_nav_item


def _settings(app) -> None:
    """This domain's settings from the environment (tests pass them in ``create_app``)."""
    env = os.environ.get
    app.config.setdefault(
        "TOLLGATE_TRAIL_RETENTION_DAYS", int(env("TOLLGATE_TRAIL_RETENTION_DAYS", "365"))
    )
    app.config.setdefault("TOLLGATE_TEST_JOBS", env("TOLLGATE_TEST_JOBS", "") not in ("", "0"))
    app.config.setdefault("TOLLGATE_TEST_JOB_SECONDS", float(env("TOLLGATE_TEST_JOB_SECONDS", "2")))


def init_app(app):
    _settings(app)
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
