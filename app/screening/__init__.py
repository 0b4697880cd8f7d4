"""Screening: sanctions and watch lists, and the matcher every party is screened with.

Service API for other domains (``from app.screening import service as screening``):

* ``screening.screen(PartyQuery(name, schema, country, identifiers, birth_date), lists=None)
  -> list[Match]``: the entries of the active lists scoring at least their list's threshold,
  best first; a ``Match`` names the list (id, name, version date, sensitivity), the entry (its
  own id, caption, ``entry_version_key``), the score, the threshold and the reasons.
* ``screening.active_index()``: the warm in-memory index (``.screen(query, lists)``).

Administrators load lists with ``tollgate screening load FILE --name ... --version-date ...``
(FtM JSON lines, or CSV with ``--mapping``) or at ``/admin/screening/``; each load is a version
with what it added, removed and changed.
"""

from app.core.registry import NavItem, add_nav_item, add_warm_up


def init_app(app):
    from app.screening import cli, models, service, views  # noqa: F401  (tables, routes)

    app.register_blueprint(views.bp)
    add_warm_up(app, service.warm_up)  # the index is built before a worker's first request
    # H4 (issue 20 integration): hits, judgements, the party screener and signal receivers
    from app.core.registry import DemoLoader, add_demo_loader
    from app.screening import hits, judgements, receivers, views_hits  # noqa: F401
    from app.screening.demo import load_screening_demo

    receivers.connect()
    views_hits.init_app(app)
    # An alert about a hit (a new registry entity on a list) reaches only who may open the hit.
    from app.alerts.subjects import register_subject

    register_subject(
        app,
        "screening_hit",
        "screening.view",
        can_open=judgements.may_open,
        url=views_hits.hit_url,
        handling=judgements.hit_handling,
    )
    # after the risk demo (order 40): its profiles and selectivity settings exist
    add_demo_loader(app, DemoLoader("screening and the sanctions desk", load_screening_demo, 45))
    app.cli.add_command(cli.screening_group)
    add_nav_item(app, NavItem("Screening lists", "screening.index", "admin.reference", order=956))
