"""Audit selection: proposal within capacity, random share, exclusions, bulk case opening."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.audit import selection, service
from app.audit.models import AuditSelectionLine
from app.core.errors import ValidationError
from app.security.access import Actor, NotFound
from tests.audit.factories import import_rows, kcs_row

SYSTEM = Actor.system("test")
START = date(2026, 1, 1)


@pytest.fixture
def rated(db):
    rows = []
    for t in range(30):  # IMP-00 worst ... IMP-29 clean
        for i in range(10):
            rows.append(
                kcs_row(
                    day=date(2025, 3, 1) + timedelta(days=i * 7 + t),
                    importer=f"IMP-{t:02d}",
                    fraud=i < max(0, 9 - t // 3),
                )
            )
    import_rows(rows)
    service.compute_ratings(actor=SYSTEM)
    db.session.flush()


def _auditor(make, unit=None):
    return make.actor(make.user(roles=["pca_auditor"], unit=unit))


def test_proposal_fills_capacity_with_ranked_and_random_traders(db, make, rated):
    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor,
        capacity=10,
        random_share=0.2,
        period_start=START,
        period_end=START + timedelta(days=90),
    )
    picked = [line for line in proposal.lines if line.is_selected]
    assert len(picked) == 10
    by_reason = {
        r: [line for line in proposal.lines if line.reason == r]
        for r in ("rating", "random", "reserve")
    }
    assert len(by_reason["rating"]) == 8 and len(by_reason["random"]) == 2
    ranked_scores = [line.score for line in by_reason["rating"]]
    assert ranked_scores == sorted(ranked_scores, reverse=True)
    assert min(ranked_scores) >= max(line.score for line in by_reason["random"])
    assert by_reason["rating"][0].trader_code == "IMP-00"
    assert all(line.risk_areas for line in picked)
    assert by_reason["reserve"] and not any(line.is_selected for line in by_reason["reserve"])


def test_default_random_share_is_the_exploration_share(db, make, rated):
    service.update_settings(actor=SYSTEM, exploration_share=0.3)
    proposal = selection.propose(
        actor=_auditor(make), capacity=10, period_start=START, period_end=START
    )
    assert proposal.random_share == 0.3
    assert sum(1 for line in proposal.lines if line.reason == "random") == 3


def test_confirm_opens_audit_cases_with_risk_areas_and_excludes_them_next_time(db, make, rated):
    from app.cases.models import Case

    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor,
        capacity=3,
        random_share=0.0,
        period_start=START,
        period_end=START + timedelta(days=30),
    )
    chosen = [line for line in proposal.lines if line.is_selected]
    first = chosen[0]
    confirmed = selection.confirm(
        proposal.id,
        actor=auditor,
        line_ids=[line.id for line in chosen],
        risk_areas={first.id: ["valuation", "origin"]},
    )
    assert confirmed.status == "confirmed"
    cases = db.session.scalars(select(Case).where(Case.kind == "audit")).all()
    assert len(cases) == 3
    by_id = {c.id: c for c in cases}
    assert by_id[first.case_id].risk_areas == ["valuation", "origin"]
    for line in chosen[1:]:
        assert by_id[line.case_id].risk_areas == line.risk_areas
        assert by_id[line.case_id].period_start == START
    with pytest.raises(ValidationError):
        selection.confirm(proposal.id, actor=auditor, line_ids=[first.id])
    again = selection.propose(
        actor=auditor, capacity=3, random_share=0.0, period_start=START, period_end=START
    )
    assert not {line.trader_code for line in again.lines} & {line.trader_code for line in chosen}


def test_confirm_checks_capacity_and_areas(db, make, rated):
    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor, capacity=2, random_share=0.0, period_start=START, period_end=START
    )
    ids = [line.id for line in proposal.lines]
    with pytest.raises(ValidationError) as err:
        selection.confirm(proposal.id, actor=auditor, line_ids=ids[:3])
    assert "capacity is 2" in err.value.fields["line_ids"]
    with pytest.raises(ValidationError) as err:
        selection.confirm(
            proposal.id, actor=auditor, line_ids=[ids[0]], risk_areas={ids[0]: ["smuggling"]}
        )
    assert f"risk_areas[{ids[0]}]" in err.value.fields
    with pytest.raises(ValidationError):
        selection.confirm(proposal.id, actor=auditor, line_ids=[999999])


def test_bad_proposal_input_names_the_fields(db, make, rated):
    with pytest.raises(ValidationError) as err:
        selection.propose(
            actor=_auditor(make),
            capacity=0,
            random_share=2,
            period_start=START,
            period_end=START - timedelta(days=1),
        )
    assert set(err.value.fields) == {"capacity", "random_share", "period_end"}


def test_selections_are_need_to_know(db, make, rated):
    unit = make.unit()
    proposal = selection.propose(
        actor=_auditor(make, unit), capacity=2, period_start=START, period_end=START
    )
    proposal.handling_code = "C"
    db.session.flush()
    with pytest.raises(NotFound):
        selection.get_selection(proposal.id, actor=_auditor(make))
    assert selection.get_selection(proposal.id, actor=_auditor(make, unit)).id == proposal.id
    assert db.session.scalar(select(AuditSelectionLine.id).limit(1))


def test_two_confirmations_at_once_open_the_cases_once(db, make, rated, worker_app):
    """A double click, or two auditors on the same proposal: the second confirmation waits
    for the first, then is refused; each trader gets one audit case."""
    from app.cases.models import Case
    from app.extensions import db as _db
    from app.security.models import User
    from tests.concurrency import race

    auditor = make.user(roles=["pca_auditor"])
    proposal = selection.propose(
        actor=make.actor(auditor),
        capacity=3,
        random_share=0.0,
        period_start=START,
        period_end=START + timedelta(days=30),
    )
    line_ids = [line.id for line in proposal.lines if line.is_selected]
    db.session.commit()
    proposal_id, auditor_id = proposal.id, auditor.id

    def confirm():
        actor = Actor.for_user(_db.session.get(User, auditor_id))
        selection.confirm(proposal_id, actor=actor, line_ids=line_ids)

    outcome = race(worker_app, confirm, confirm)
    assert outcome["first"] == "done"
    assert "already confirmed" in outcome["second"], outcome
    db.session.rollback()
    cases = db.session.scalars(select(Case).where(Case.kind == "audit")).all()
    assert len(cases) == 3
