"""Security: accounts, units, roles, sign-in, API tokens, need-to-know and the access trail."""

from app.core.registry import DemoLoader, NavItem, add_demo_loader, add_nav_item


def init_app(app):
    from app.security import cli, throttle, views
    from app.security.demo import load_security_demo

    if app.config.get("TOLLGATE_FAST_HASH"):
        from app.security.service import use_fast_hashing

        use_fast_hashing()
    app.register_blueprint(views.bp)
    throttle.init_app(app)  # after the blueprint: it wraps the registered sign-in view
    cli.init_app(app)
    from app.security import api_shares, cli_shares, views_shares

    views_shares.init_app(app)
    api_shares.init_app(app)
    cli_shares.init_app(app)
    add_nav_item(
        app,
        NavItem("Access trail", "security.trail", "trail.view", order=900, active_prefix="/trail"),
    )
    add_nav_item(
        app,
        NavItem(
            "Administration",
            "security.admin_users",
            "admin.users",
            order=950,
            active_prefix="/admin",
        ),
    )
    add_demo_loader(app, DemoLoader("units and accounts", load_security_demo, order=0))
