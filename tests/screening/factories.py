"""Screening test data: small lists written to a file and loaded through the real loader."""

import csv
import json
import tempfile
from datetime import date
from pathlib import Path

from app.screening import loader
from app.security.access import Actor


def write_ftm(entities, path: Path) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities), "utf-8")
    return path


def load_ftm(entities, *, name="Test sanctions", version_date=date(2026, 12, 1), **kw):
    """Load entities (FtM dicts) as a new version of list ``name``; flushes, returns it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ftm(entities, Path(tmp) / "list.ftm.json")
        return loader.load_list(
            path,
            name=name,
            source=kw.pop("source", "tests"),
            version_date=version_date,
            sensitivity=kw.pop("sensitivity", "P"),
            actor=kw.pop("actor", Actor.system("tests")),
            **kw,
        )


def write_csv(rows, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows(rows)
    return path


def company(entry_id, *names, country=None, **props):
    properties = {"name": [names[0]], **props}
    if names[1:]:
        properties["alias"] = list(names[1:])
    if country:
        properties["country"] = [country]
    return {"id": entry_id, "schema": "Company", "properties": properties}


def person(entry_id, *names, birth=None, country=None, **props):
    properties = {"name": [names[0]], **props}
    if names[1:]:
        properties["alias"] = list(names[1:])
    if birth:
        properties["birthDate"] = [birth]
    if country:
        properties["nationality"] = [country]
    return {"id": entry_id, "schema": "Person", "properties": properties}


def require_compiled(module, source: str, fallback: str) -> None:
    """Skip a test of a compiled screening module where it is not built (a newcomer's
    machine without a C compiler: ``fallback`` does the work there); under CI, fail."""
    import os

    import pytest

    if module is None:
        if os.environ.get("CI"):
            pytest.fail(f"app/screening/{source} is not built (make install builds it)")
        pytest.skip(f"app/screening/{source} is not built here: {fallback}")


def record_hits() -> None:
    """The worker's ``risk-screening-hits`` job: writes the screening hits of the
    declarations assessed since its last run (it commits)."""
    from app.risk.tasks import screening_hits_job

    screening_hits_job()


def submit(data, actor=None):
    """A declaration submitted (``tests.risk.factories.submit``), then the worker's run that
    writes its screening hits, as moments later in production."""
    from tests.risk import factories

    decl = factories.submit(data, actor)
    record_hits()
    return decl
