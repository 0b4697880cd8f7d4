"""Retention (issue 17) meets the named parties (issue 20): anonymising a declaration by a
retention review removes its named parties, their names in the stored screening, and the
party's data in its screening hits."""

from datetime import timedelta

from sqlalchemy import select

from app.core.time import now_utc
from app.ops import retention
from app.ops.models import ReviewItem
from app.risk import engine as engine_mod
from app.screening.hits import ScreeningHit
from tests.risk.factories import body, no_random
from tests.screening.factories import company, load_ftm, submit


def _listed_and_an_old_date():
    """The list loaded, random selection off; a date past a 30-day retention period, and
    a party on the list."""
    engine_mod.reset_cache()
    load_ftm([company("NK-stroy", "ООО Стройтехимпорт", country="ru")], name="Test sanctions")
    no_random()
    old = (now_utc() - timedelta(days=41)).date().isoformat()
    return old, {"role": "importer", "name": "Stroytekhimport LLC", "kind": "company"}


def _anonymise_by_review(app, db, make, monkeypatch, decl):
    """The declaration comes up for review (30-day period) and is anonymised."""
    monkeypatch.setitem(app.config, "TOLLGATE_RETENTION_DECLARATION_DAYS", 30)
    retention.queue_overdue()
    item = db.session.scalar(
        select(ReviewItem).where(
            ReviewItem.record_type == "declaration", ReviewItem.record_id == str(decl.id)
        )
    )
    reviewer = make.actor(make.user(roles=["administrator"]))
    retention.decide(item, "anonymise", "Period over", actor=reviewer)
    db.session.commit()


def test_anonymising_a_declaration_forgets_its_named_parties_and_their_screening(
    app, db, make, monkeypatch
):
    old, party = _listed_and_an_old_date()
    decl = submit(body("RET-P1", date=old, parties=[party]))
    assert decl.assessment["screening"]["matches"][0]["party"]["name"] == "Stroytekhimport LLC"
    db.session.commit()
    _anonymise_by_review(app, db, make, monkeypatch, decl)
    db.session.expire_all()
    assert decl.named_parties == []
    assert "Stroytekhimport" not in str(decl.assessment)
    assert decl.assessment["screening"]["matches"][0]["entry_id"] == "NK-stroy"  # statistics
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    assert hit.party["name"] is None and hit.entry_id == "NK-stroy"


def test_a_declaration_anonymised_before_the_worker_wrote_its_hits_gives_them_no_party(
    app, db, make, monkeypatch
):
    """The hits are written from the stored assessment: anonymised in between, the
    assessment no longer names the party, and nor do the hits the worker writes after."""
    from tests.risk.factories import submit as submit_only
    from tests.screening.factories import record_hits

    old, party = _listed_and_an_old_date()
    decl = submit_only(body("RET-P2", date=old, parties=[party]))
    db.session.commit()
    assert decl.screening_pending
    _anonymise_by_review(app, db, make, monkeypatch, decl)
    record_hits()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    assert hit.entry_id == "NK-stroy" and hit.subject_id == decl.id
    assert hit.party == {
        "name": None, "kind": None, "country": None, "identifiers": [], "birth_date": None
    }  # fmt: skip
    assert "Stroytekhimport" not in str(hit.party)
