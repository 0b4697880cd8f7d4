"""Alerts: sensitive-profile hits, entity and term watches and saved searches become alerts,
routed under need-to-know, notified asynchronously (inbox, e-mail, webhooks, digests),
acknowledged, actioned and closed, and escalated when nobody acknowledges them in time."""

from app.core.registry import (
    DemoLoader,
    HomePanel,
    NavItem,
    add_demo_loader,
    add_home_panel,
    add_nav_item,
)


def init_app(app):
    from app.alerts import api, models, receivers, tasks, views  # noqa: F401 - tables
    from app.core.openapi import add_paths

    receivers.connect()
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    add_paths(app, api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    add_nav_item(
        app,
        NavItem(
            "Alerts",
            "alerts.inbox",
            "alert.view",
            order=150,
            children=(
                ("Inbox", "alerts.inbox", "alert.view"),
                ("Watches and saved searches", "alerts.watches", "alert.view"),
                ("Supervision", "alerts.supervise", "alert.supervise"),
                ("Notification settings", "alerts.settings", "alert.view"),
            ),
        ),
    )
    add_home_panel(
        app,
        HomePanel(
            "Open alerts",
            "alerts/_home_panel.html",
            views.home_panel,
            permission="alert.view",
            order=10,
        ),
    )
    # The administrator sees why alerts stop at the top of a unit (no headquarters unit
    # designated, or a designated code that names no active unit).
    add_home_panel(
        app,
        HomePanel(
            "Escalation beyond a unit",
            "alerts/_escalation_setup_panel.html",
            views.escalation_setup_panel,
            permission="admin.users",
            order=5,
        ),
    )
    tasks.register_jobs(app)
    from app.alerts.demo import load_alerts_demo

    add_demo_loader(app, DemoLoader("watches and saved searches", load_alerts_demo, order=60))
