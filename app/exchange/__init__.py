"""Exchange with other systems: FollowTheMoney (Aleph, OpenSanctions) and STIX 2.1 (MISP,
OpenCTI) in and out of the entity registry. ``app.exchange.ftm`` is the reusable FtM reader;
``ftm_map`` the mapping both ways; ``ftm_import`` / ``ftm_export`` and ``stix`` the services;
``cli`` the ``tollgate intel ...`` commands; ``views`` and ``api`` the pages' and clients'
exports."""


def init_app(app):
    from app.exchange import api, cli, views

    app.cli.add_command(cli.intel_group)
    app.register_blueprint(views.bp)
    api.init_app(app)
