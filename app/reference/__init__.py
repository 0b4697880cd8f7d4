"""Reference data: the coded lists declarations and cases are checked against.

Lists (``service.LISTS``): ``office`` (customs offices: kind, country, coordinates),
``crossing`` (border crossing points: kind road/rail/sea/air/river/pedestrian, country,
coordinates), ``transport_mode`` (UN/ECE Rec. 19), ``country`` (ISO 3166-1 alpha-2, from
pycountry, plus the user-assigned XK and ZZ), ``currency`` (ISO 4217, from pycountry),
``procedure`` and ``tax_type`` (a tax type may allow rates above 100 %: ``max_rate``).

Service API for other domains (stable; ``from app.reference import service as reference``):

* ``reference.lookup(list_name, code) -> Entry | None``: one entry, active or not
  (``entry.is_active``), or None when the code is not listed.
* ``reference.entries(list_name, active_only=True) -> list[Entry]``: a list, ordered by code.
* ``reference.places() -> list[Entry]``: active offices and crossing points, each with
  ``list_name``, ``code``, ``label``, ``kind``, ``country``, ``latitude``, ``longitude``.
* ``reference.codes(list_name) -> {code: Entry}``: for checking many values at once.

``Entry`` is a frozen dataclass (``list_name, code, label, kind, country, latitude,
longitude, max_rate, is_active, id``). Administrators change the lists at
``/admin/reference/`` (add, edit, deactivate, load a CSV; every change kept with who, when,
before and after, and trailed) or with ``tollgate reference load LIST FILE``. Shipped sets
(``tollgate reference seed standard|demo|kcs``): the migration seeds ``standard``, the demo
``standard`` and ``demo`` (and ``kcs`` with ``--kcs``); importing a KCS file adds ``kcs``.
"""

from app.core.registry import DemoLoader, NavItem, add_demo_loader, add_nav_item


def load_reference_demo(options) -> None:
    from app.reference import service

    service.ensure("standard", "demo", *(("kcs",) if options.get("kcs_dir") else ()))


def init_app(app):
    from app.reference import cli, models, views  # noqa: F401  (tables, routes)

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.reference_group)
    add_nav_item(app, NavItem("Reference lists", "reference.index", "admin.reference", order=955))
    add_demo_loader(app, DemoLoader("reference lists", load_reference_demo, order=5))
