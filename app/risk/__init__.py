"""Risk targeting: declarations, risk profiles, selectivity engine, simulation, control
feedback and targeting KPIs."""

from app.core.registry import DemoLoader, NavItem, add_demo_loader, add_nav_item, add_warm_up


def init_app(app):
    from app.core.retention import register_sources
    from app.risk import retention

    register_sources(app, retention.SOURCES)  # declarations come up for review

    from app.jobs.registry import JobSpec, add_job
    from app.risk import api, cli, models, parties, views, views_kpis, views_profiles  # noqa: F401
    from app.risk.demo import load_risk_demo
    from app.risk.search import SOURCE
    from app.risk.tasks import link_parties_job, refresh_peer_medians_job, screening_hits_job
    from app.risk.warmup import warm_up
    from app.search.registry import add_search_source

    app.register_blueprint(views.bp)
    api.init_app(app)
    app.cli.add_command(cli.risk_group)
    add_search_source(app, SOURCE)
    add_nav_item(
        app,
        NavItem(
            "Risk",
            "risk.declarations",
            "risk.declaration.view",
            order=30,
            children=(
                ("Declarations", "risk.declarations", "risk.declaration.view"),
                ("Profiles", "risk.profiles_list", "risk.profile.view"),
                ("New profile", "risk.profile_new", "risk.profile.edit"),
                ("Simulation", "risk.simulation_page", "risk.profile.view"),
                ("Targeting KPIs", "risk.kpis_page", "risk.profile.view"),
                ("Named lists", "risk.lists", "risk.profile.view"),
                ("Selectivity rates", "risk.settings_page", "risk.profile.view"),
                ("Raises to approve", "risk.raises", "risk.channel.approve"),
                ("Import history", "risk.import_page", "risk.profile.edit"),
            ),
        ),
    )
    add_demo_loader(app, DemoLoader("declarations and risk profiles", load_risk_demo, order=40))
    add_warm_up(app, warm_up)
    add_job(
        app,
        JobSpec(
            "risk-link-parties",
            link_parties_job,
            "interval",
            {"seconds": 10},
            "Register the traders of newly submitted declarations in the entity registry",
        ),
    )
    add_job(
        app,
        JobSpec(
            "risk-screening-hits",
            screening_hits_job,
            "interval",
            {"seconds": 5},
            "Record the screening hits of newly assessed declarations for the analysts",
        ),
    )
    add_job(
        app,
        JobSpec(
            "risk-peer-medians",
            refresh_peer_medians_job,
            "cron",
            {"hour": 2},
            "Recompute HS6 peer median unit values",
        ),
    )
