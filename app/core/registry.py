"""Plug-in points through which a domain adds itself to the shell without touching the core.

A domain's ``init_app`` calls ``add_nav_item`` and ``add_home_panel``; the base layout
and the home page read these lists.
"""

import gc
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str | None  # None: every signed-in user
    order: int = 100
    children: tuple = field(default_factory=tuple)  # ((label, endpoint, permission), ...)
    #: highlight when the path starts with this; default: the endpoint's blueprint is active
    active_prefix: str | None = None

    def is_active(self, request) -> bool:
        if self.active_prefix:
            return request.path.startswith(self.active_prefix)
        return request.blueprint == self.endpoint.split(".")[0]


@dataclass(frozen=True)
class HomePanel:
    """A box on the home page. ``build(user)`` returns a dict for ``template`` or None."""

    title: str
    template: str
    build: Callable
    permission: str | None = None
    order: int = 100


def add_nav_item(app, item: NavItem) -> None:
    app.extensions.setdefault("tollgate_nav", []).append(item)
    app.extensions["tollgate_nav"].sort(key=lambda i: i.order)


def add_home_panel(app, panel: HomePanel) -> None:
    app.extensions.setdefault("tollgate_home", []).append(panel)
    app.extensions["tollgate_home"].sort(key=lambda p: p.order)


def nav_items(app) -> list[NavItem]:
    return app.extensions.get("tollgate_nav", [])


def home_panels(app) -> list[HomePanel]:
    return app.extensions.get("tollgate_home", [])


@dataclass(frozen=True)
class DemoLoader:
    """``load(options)`` adds a domain's demo data idempotently (inside one transaction)."""

    name: str
    load: Callable
    order: int = 100


def add_demo_loader(app, loader: DemoLoader) -> None:
    app.extensions.setdefault("tollgate_demo", []).append(loader)
    app.extensions["tollgate_demo"].sort(key=lambda d: d.order)


def demo_loaders(app) -> list[DemoLoader]:
    return app.extensions.get("tollgate_demo", [])


@dataclass(frozen=True)
class RecordPanel:
    """A box another domain adds to a record's page (e.g. the charts saved in a case):
    ``build(actor, record)`` returns a dict for ``template`` or None (nothing to show). The
    record's own domain never imports the other one; the page has already opened the record."""

    record_type: str
    title: str
    template: str
    build: Callable
    permission: str | None = None
    order: int = 100


def add_record_panel(app, panel: RecordPanel) -> None:
    app.extensions.setdefault("tollgate_record_panels", []).append(panel)
    app.extensions["tollgate_record_panels"].sort(key=lambda p: p.order)


def record_panels(app, actor, record_type: str, record) -> list[tuple[RecordPanel, dict]]:
    """The panels of ``record_type`` the actor may see that have something to show."""
    shown = []
    for panel in app.extensions.get("tollgate_record_panels", []):
        if panel.record_type != record_type:
            continue
        if panel.permission and not actor.can(panel.permission):
            continue
        data = panel.build(actor, record)
        if data is not None:
            shown.append((panel, data))
    return shown


def add_warm_up(app, fn: Callable) -> None:
    """``fn(app)`` readies a domain's caches in a web worker before it takes its first
    request (``app.wsgi``; issue 22: no cold start). It keeps nothing: what it writes, it
    rolls back."""
    app.extensions.setdefault("tollgate_warm_up", []).append(fn)


def run_warm_ups(app) -> None:
    for fn in app.extensions.get("tollgate_warm_up", []):
        fn(app)


def ready_worker(app) -> None:
    """What a web worker does before its first request: the warm-ups, then ``gc.freeze()``.
    The long-lived objects made so far (modules, the engine, the model, the caches) leave the
    cyclic collector's generations, so a full collection no longer walks them: one cost
    ~150 ms of CPU in a warmed worker, landing on whichever request triggered it (issue 22)."""
    run_warm_ups(app)
    gc.collect()
    gc.freeze()
