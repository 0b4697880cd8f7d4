"""Case references stay unique and gap-free when several requests open cases at once."""

import threading

from sqlalchemy import select

from app.cases import service
from app.cases.models import Case
from app.extensions import db as _db
from app.security.access import Actor


def test_concurrent_openings_get_distinct_consecutive_references(worker_app, make, db):
    unit = make.unit(code="CONC")
    user = make.user(unit=unit)
    db.session.commit()
    user_id, user_class = user.id, type(user)
    errors, per_thread = [], 5
    barrier = threading.Barrier(4)

    def open_some():
        with worker_app.app_context():
            actor = Actor.for_user(_db.session.get(user_class, user_id))
            _db.session.commit()
            barrier.wait()
            for _ in range(per_thread):
                try:
                    service.open_case("seizure", actor=actor, title="race")
                    _db.session.commit()
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    _db.session.rollback()
                    errors.append(repr(exc))
            _db.session.remove()

    threads = [threading.Thread(target=open_some) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    db.session.rollback()
    refs = db.session.scalars(select(Case.reference).where(Case.unit_id == unit.id)).all()
    numbers = sorted(int(r.rsplit("/", 1)[1]) for r in refs)
    assert numbers == list(range(1, 4 * per_thread + 1))
