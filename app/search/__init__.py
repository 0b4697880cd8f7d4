"""Search: one interface over Whoosh (embedded) and PostgreSQL full-text (scale-out)."""

from app.core.registry import NavItem, add_nav_item


def init_app(app):
    from app.core import signals
    from app.jobs.registry import JobSpec, add_job
    from app.search import api, cli, models, views  # noqa: F401  (models: tables)
    from app.search.service import _on_index_requested, apply_index_queue

    signals.search_index_requested.connect(_on_index_requested, weak=False)
    app.register_blueprint(views.bp)
    api.init_app(app)
    app.cli.add_command(cli.search_group)
    add_nav_item(app, NavItem("Search", "search.search_page", "search.use", order=50))
    add_job(
        app,
        JobSpec(
            "search-apply-queue",
            apply_index_queue,
            "interval",
            {"seconds": 20},
            "Apply queued search index updates (the one index writer)",
        ),
    )
