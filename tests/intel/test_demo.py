"""Demo data: a linked network worth charting, loaded idempotently."""

from sqlalchemy import func, select

from app.intel.demo import load_intel_demo
from app.intel.models import Entity, EntityMatch, IntelReport, Link


def test_demo_loader_is_idempotent_and_linked(make, db):
    make.unit(code="HQ-INT", name="Central Intelligence Unit")
    load_intel_demo({"small": True})
    db.session.commit()
    entities = db.session.scalar(select(func.count()).select_from(Entity))
    links = db.session.scalar(select(func.count()).select_from(Link))
    assert entities > 250 and links > entities
    # companies share directors: some person directs two or more companies
    shared = db.session.execute(
        select(Link.source_id)
        .where(Link.link_type == "director_of")
        .group_by(Link.source_id)
        .having(func.count() > 1)
    ).all()
    assert shared
    assert db.session.scalar(select(func.count()).select_from(EntityMatch)) >= 5
    assert db.session.scalar(select(func.count()).select_from(IntelReport)) == 2
    load_intel_demo({"small": True})
    assert db.session.scalar(select(func.count()).select_from(Entity)) == entities
