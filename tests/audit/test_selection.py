"""Audit selection: proposal within capacity, random share, exclusions, bulk case opening."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.audit import selection, service
from app.audit.models import AuditSelectionLine
from app.audit.views import last_quarter
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk.models import Declaration
from app.security.access import Actor, NotFound
from tests.audit.factories import import_rows, kcs_row

SYSTEM = Actor.system("test")
#: the audited period: the last full quarter before today (the clock)
START, END = last_quarter(now_utc().date())


def _scores(scores: dict) -> None:
    """Declaration number -> ML score, as the assessment stores it (the riskiest item's)."""
    for number, score in scores.items():
        db.session.execute(
            update(Declaration).where(Declaration.number == number).values(ml_score=score)
        )


@pytest.fixture
def rated(db):
    """30 importers: a history before the period (IMP-00 worst ... IMP-29 clean) and four
    scored declarations each in the period. IMP-29's history is clean, but one of its
    period's declarations scores 0.97: an audit of the period would find it."""
    rows, scores = [], {}
    before = START - timedelta(days=200)
    for t in range(30):
        for i in range(10):
            rows.append(
                kcs_row(
                    day=before + timedelta(days=i * 7 + t),
                    importer=f"IMP-{t:02d}",
                    fraud=i < max(0, 9 - t // 3),
                )
            )
        for i in range(4):
            number = f"P{t:02d}{i}"
            rows.append(
                kcs_row(
                    day=START + timedelta(days=i * 20 + t % 10),
                    importer=f"IMP-{t:02d}",
                    number=number,
                    fraud=0,
                )
            )
            scores[number] = 0.97 if (t == 29 and i == 0) else max(0.02, 0.3 - 0.01 * t)
    rows.append(kcs_row(day=END + timedelta(days=1), importer="IMP-LATER", number="LATER-1"))
    import_rows(rows)
    _scores(scores)
    service.compute_ratings(actor=SYSTEM, as_of=END)
    db.session.flush()


def _auditor(make, unit=None):
    return make.actor(make.user(roles=["pca_auditor"], unit=unit))


def test_proposal_ranks_by_expected_findings_of_the_period(db, make, rated):
    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor, capacity=10, random_share=0.2, period_start=START, period_end=END
    )
    picked = [line for line in proposal.lines if line.is_selected]
    assert len(picked) == 10
    by_reason = {
        r: [line for line in proposal.lines if line.reason == r]
        for r in ("expected", "random", "reserve")
    }
    assert len(by_reason["expected"]) == 8 and len(by_reason["random"]) == 2
    keys = [line.score for line in by_reason["expected"]]
    assert keys == sorted(keys, reverse=True)
    assert min(keys) >= max(line.score for line in by_reason["random"])
    # The clean-history trader with one very risky declaration in the period comes first,
    # although its behavioural rating is low: the selection ranks by expected findings.
    top = by_reason["expected"][0]
    assert top.trader_code == "IMP-29"
    assert top.rating_score is not None and top.rating_score < 40
    assert top.n_declarations == 4 and top.p_finding > 0.97
    assert top.factors[0] == "rank 1 of 30 by expected findings"
    assert any("1 of 4 declarations in the period score high" in f for f in top.factors)
    assert any(f.startswith("revenue at stake 320,000") for f in top.factors)
    assert any(f.startswith("history: 0 of 14 inspected") for f in top.factors)
    assert any(f == "exposure: 4 declarations in the period" for f in top.factors)
    assert top.expected_yield == pytest.approx(80_000 * (0.97 + 3 * 0.02))
    assert by_reason["random"][0].factors[0].startswith("drawn at random")
    assert all(line.risk_areas for line in picked)
    assert by_reason["reserve"] and not any(line.is_selected for line in by_reason["reserve"])
    assert "IMP-LATER" not in {line.trader_code for line in proposal.lines}


def test_the_audited_period_is_in_the_past(db, make, rated):
    today = now_utc().date()
    with pytest.raises(ValidationError) as err:
        selection.propose(
            actor=_auditor(make), capacity=2, period_start=today, period_end=today + timedelta(90)
        )
    assert "audit looks back" in err.value.fields["period_end"]
    with pytest.raises(ValidationError) as err:  # a past period nobody declared in
        selection.propose(
            actor=_auditor(make),
            capacity=2,
            period_start=START - timedelta(days=2000),
            period_end=START - timedelta(days=1900),
        )
    assert "no eligible trader declared in this period" in err.value.fields["period_start"]


def test_default_random_share_is_the_exploration_share(db, make, rated):
    service.update_settings(actor=SYSTEM, exploration_share=0.3)
    proposal = selection.propose(
        actor=_auditor(make), capacity=10, period_start=START, period_end=END
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
        period_end=END,
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
    for line in chosen:
        case = by_id[line.case_id]
        # The audited period is the past period chosen, its declarations linked.
        assert (case.period_start, case.period_end) == (START, END)
        linked = sorted(k.target_id for k in case.links if k.target_type == "declaration")
        assert linked == [f"P{line.trader_code[-2:]}{i}" for i in range(4)]
        assert case.tasks[0].title.startswith("Desk review")
        assert case.trader_name
    # The checklist follows the risk areas.
    items = [row["item"] for row in by_id[first.case_id].checklist]
    assert any(i.startswith("Valuation:") for i in items)
    assert any(i.startswith("Origin:") for i in items)
    assert not any(i.startswith("Classification:") for i in items)
    with pytest.raises(ValidationError):
        selection.confirm(proposal.id, actor=auditor, line_ids=[first.id])
    again = selection.propose(
        actor=auditor, capacity=3, random_share=0.0, period_start=START, period_end=END
    )
    assert not {line.trader_code for line in again.lines} & {line.trader_code for line in chosen}


def test_confirm_checks_capacity_and_areas(db, make, rated):
    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor, capacity=2, random_share=0.0, period_start=START, period_end=END
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
        actor=_auditor(make, unit), capacity=2, period_start=START, period_end=END
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
        period_end=END,
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


def test_proposal_can_rank_by_expected_yield(db, make, rated):
    auditor = _auditor(make)
    proposal = selection.propose(
        actor=auditor,
        capacity=5,
        random_share=0.0,
        period_start=START,
        period_end=END,
        rank_by="yield",
    )
    ranked = [line for line in proposal.lines if line.reason == "expected"]
    yields = [line.expected_yield for line in ranked]
    assert yields == sorted(yields, reverse=True)
    assert ranked[0].trader_code == "IMP-00"  # the most revenue at risk, not IMP-29
    assert ranked[0].factors[0] == "rank 1 of 30 by expected yield"
    with pytest.raises(ValidationError) as err:
        selection.propose(
            actor=auditor, capacity=5, period_start=START, period_end=END, rank_by="mood"
        )
    assert "rank_by" in err.value.fields


def test_code_c_declarations_of_another_unit_stay_out_of_the_proposal(db, make, rated):
    unit_a, unit_b = make.unit(), make.unit()
    db.session.execute(
        update(Declaration)
        .where(Declaration.importer_code == "IMP-29")
        .values(handling_code="C", unit_id=unit_a.id)
    )
    outsider = selection.propose(
        actor=_auditor(make, unit_b),
        capacity=3,
        random_share=0.0,
        period_start=START,
        period_end=END,
    )
    assert "IMP-29" not in {line.trader_code for line in outsider.lines}
    owner = selection.propose(
        actor=_auditor(make, unit_a),
        capacity=3,
        random_share=0.0,
        period_start=START,
        period_end=END,
    )
    assert owner.lines[0].trader_code == "IMP-29"
