"""Shared pieces of the exchange tests: the example file and reading the registry back."""

import json
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.intel.models import Entity, Link

EXAMPLE = Path(__file__).parent / "data" / "example.ftm.jsonl"


def lines(**by_id) -> list[dict]:
    """The example file's entities, with ``by_id`` replacing some (None: left out)."""
    out = []
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        data = json.loads(raw)
        if data["id"] in by_id:
            data = by_id[data["id"]]
        if data is not None:
            out.append(data)
    return out


def write(tmp_path, rows, name="in.ftm.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    return path


def registry(unit_id) -> tuple[dict, set]:
    """A unit's entities (by name: type, aliases, identifiers, attributes, handling) and
    links (source name, kind, target name, dates, grade, handling), ids left aside."""
    entities = {
        e.name: (
            e.entity_type,
            sorted(e.aliases or []),
            dict(e.identifiers or {}),
            dict(e.attributes or {}),
            e.handling_code,
        )
        for e in db.session.scalars(select(Entity).where(Entity.unit_id == unit_id))
    }
    names = {
        e.id: e.name for e in db.session.scalars(select(Entity).where(Entity.unit_id == unit_id))
    }
    links = {
        (
            names[lk.source_id],
            lk.link_type,
            names[lk.target_id],
            lk.start_date.isoformat() if lk.start_date else None,
            lk.end_date.isoformat() if lk.end_date else None,
            lk.grade,
            lk.handling_code,
        )
        for lk in db.session.scalars(select(Link).where(Link.unit_id == unit_id))
    }
    return entities, links
