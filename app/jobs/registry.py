"""Domains register periodic jobs here; only the worker process ever schedules them."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobSpec:
    """``func()`` runs inside an app context and commits its own work."""

    id: str
    func: Callable
    #: APScheduler trigger name and arguments, e.g. ("interval", {"minutes": 5})
    trigger: str = "interval"
    trigger_args: dict = field(default_factory=lambda: {"minutes": 5})
    description: str = ""


def add_job(app, spec: JobSpec) -> None:
    app.extensions.setdefault("tollgate_jobs", {})[spec.id] = spec


def registered_jobs(app) -> list[JobSpec]:
    return list(app.extensions.get("tollgate_jobs", {}).values())
