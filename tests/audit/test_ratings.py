"""Trader ratings: computation from history, recomputation after new results, reports."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.audit import service
from app.audit.models import TraderRating
from app.core.errors import ValidationError
from app.risk.assessment import submit_declaration
from app.risk.control import record_control_result
from app.security.access import AccessDenied, Actor
from app.security.trail import AccessEvent
from tests.audit.factories import import_rows, kcs_row

SYSTEM = Actor.system("test")
DAY = date(2025, 6, 30)


def _history(importer="IMP-A", n=10, frauds=0, start=DAY - timedelta(days=200)):
    return [
        kcs_row(day=start + timedelta(days=i), importer=importer, fraud=i < frauds)
        for i in range(n)
    ]


def _current(role, code):
    from app.extensions import db

    return db.session.scalars(
        select(TraderRating).filter_by(role=role, trader_code=code, is_current=True)
    ).one()


def _submit(number, importer, day, actor=SYSTEM):
    return submit_declaration(
        {
            "number": number,
            "date": day.isoformat(),
            "office": "30",
            "procedure": "B",
            "declarant": "DCL-1",
            "importer": importer,
            "seller": "SEL-1",
            "items": [
                {
                    "hs_code": "851762",
                    "origin": "CN",
                    "departure": "CN",
                    "value": 1e6,
                    "mass": 100.0,
                    "tax_rate": 8.0,
                }
            ],
        },
        actor=actor,
    )


def test_ratings_rank_non_compliant_traders_higher(db):
    import_rows(
        _history("IMP-GOOD", n=12) + _history("IMP-BAD", n=12, frauds=9) + _history("IMP-NEW", n=1)
    )
    summary = service.compute_ratings(actor=SYSTEM, as_of=DAY)
    assert summary["rated"] >= 3
    good, bad = _current("importer", "IMP-GOOD"), _current("importer", "IMP-BAD")
    assert bad.score > 70 > 40 > good.score
    assert bad.band == "high" and good.band == "low"
    assert bad.factors[0]["text"] == "9 of 12 inspected declarations non-compliant in 12 months"
    assert bad.n_inspected == 12 and bad.n_noncompliant == 9
    assert _current("declarant", "DCL-1").score > 0
    assert bad.model_version.startswith(service.RATING_METHOD)


def test_new_non_compliant_result_raises_the_rating_after_recomputation(db):
    import_rows(_history("IMP-A", n=6, frauds=1))
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    before = _current("importer", "IMP-A")
    decl = _submit("NEW-0001", "IMP-A", DAY)
    record_control_result(
        decl.id,
        {"inspected": True, "compliant": False, "fraud_type": "undervaluation"},
        actor=SYSTEM,
    )
    db.session.flush()
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    after = _current("importer", "IMP-A")
    assert after.id != before.id
    assert after.score > before.score
    assert after.n_noncompliant == before.n_noncompliant + 1
    assert "valuation" in after.risk_areas  # from the fraud type
    history = db.session.scalars(
        select(TraderRating).filter_by(trader_code="IMP-A", role="importer")
    ).all()
    assert len(history) == 2 and sum(r.is_current for r in history) == 1


def test_unchanged_history_adds_no_rating_rows(db):
    import_rows(_history("IMP-A", n=5, frauds=2))
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    first = db.session.scalar(select(TraderRating.id).order_by(TraderRating.id.desc()))
    summary = service.compute_ratings(actor=SYSTEM, as_of=DAY)
    assert summary["changed"] == 0
    assert db.session.scalar(select(TraderRating.id).order_by(TraderRating.id.desc())) == first


def test_undervaluation_and_new_chapters_are_explained(db):
    rows = []
    for i in range(21):  # three peers in HS 610910 at about 10,000 per kg
        rows.append(
            kcs_row(
                day=DAY - timedelta(days=150 + i),
                importer=f"PEER-{i % 3}",
                hs="610910",
                value=1_000_000,
                mass=100,
            )
        )
    for i in range(6):  # IMP-CHEAP declares a fifth of that
        rows.append(
            kcs_row(
                day=DAY - timedelta(days=140 + i),
                importer="IMP-CHEAP",
                hs="610910",
                value=200_000,
                mass=100,
            )
        )
    rows.append(kcs_row(day=DAY - timedelta(days=5), importer="IMP-CHEAP", hs="940360"))
    import_rows(rows)
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    cheap = _current("importer", "IMP-CHEAP")
    texts = [f["text"] for f in cheap.factors]
    assert any(t.startswith("unit values") and "below HS6 peers" in t for t in texts), texts
    assert "new HS chapters this quarter (94)" in texts
    assert {"valuation", "classification"} <= set(cheap.risk_areas)
    peer = _current("importer", "PEER-1")
    assert cheap.score > peer.score


def test_rating_provider_feeds_the_selectivity_engine(db):
    import_rows(_history("IMP-BAD", n=10, frauds=9))
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    from app.risk import providers

    ratings = providers.ratings_for(["IMP-BAD", "UNKNOWN"])
    assert set(ratings) == {"IMP-BAD"} and ratings["IMP-BAD"] >= 70


def test_report_is_trailed_and_needs_the_permission(db, make):
    import_rows(_history("IMP-A", n=4, frauds=1))
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    auditor = make.actor(make.user(roles=["pca_auditor"]))
    report = service.trader_report("importer", "IMP-A", actor=auditor)
    assert report["current"].trader_code == "IMP-A"
    events = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type == "trader_rating")
    ).all()
    assert [(e.action, e.record_id) for e in events] == [("view", "importer:IMP-A")]
    enforcement = make.actor(make.user(roles=["enforcement_officer"]))
    with pytest.raises(AccessDenied):
        service.trader_report("importer", "IMP-A", actor=enforcement)
    with pytest.raises(AccessDenied):
        service.compute_ratings(actor=enforcement)


def test_bad_filters_and_settings_name_the_field(db, make):
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    with pytest.raises(ValidationError) as err:
        service.list_ratings(actor=analyst, band="purple")
    assert "band" in err.value.fields
    with pytest.raises(ValidationError) as err:
        service.update_settings(actor=analyst, exploration_share=0.9, recent_audit_months=-1)
    assert set(err.value.fields) == {"exploration_share", "recent_audit_months"}
    assert service.update_settings(actor=analyst, exploration_share=0.15).exploration_share == 0.15


def test_audit_findings_flow_back_into_the_rating(db, make):
    from app.cases import service as cases

    for n in range(4):
        decl = _submit(f"AF-{n}", "IMP-AUD", DAY - timedelta(days=n))
        record_control_result(decl.id, {"inspected": True, "compliant": True}, actor=SYSTEM)
    db.session.flush()
    from app.risk.assessment import link_pending_parties

    link_pending_parties()  # the worker's job registers the traders after submission
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    before = _current("importer", "IMP-AUD")
    assert before.entity_id is not None  # linked by the risk engine
    case = cases.open_audit_case(
        before.entity_id, actor=SYSTEM, risk_areas=["valuation"], unit_id=make.unit().id
    )
    cases.update_case(
        case.id,
        actor=SYSTEM,
        findings="Royalties left out of the customs value",
        assessed_debt="12500.00",
    )
    db.session.flush()
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    after = _current("importer", "IMP-AUD")
    assert f"audit findings in case {case.reference}" in [f["text"] for f in after.factors]
    assert after.score > before.score
    report = service.trader_report("importer", "IMP-AUD", actor=SYSTEM)
    assert [a["reference"] for a in report["audits"]] == [case.reference]


def _future_dated(number: str, day: date) -> None:
    """A declaration stored with a date in the future (as the old intake allowed)."""
    from sqlalchemy import update

    from app.extensions import db
    from app.risk.models import Declaration

    import_rows([kcs_row(day=DAY, importer="IMP-FUTURE", number=number)])
    db.session.execute(
        update(Declaration).where(Declaration.number == number).values(declaration_date=day)
    )
    db.session.flush()


def test_a_future_dated_declaration_does_not_stop_the_ratings(db, client, login_as):
    """Issue 17 item 2: the evaluation date is the clock's (or the one set), never the newest
    declaration's; later declarations are ignored and counted."""
    from app.audit.tasks import recompute_ratings_job
    from app.core.time import now_utc
    from app.extensions import db as _db

    today = now_utc().date()
    import_rows(_history("IMP-A", n=6, frauds=2, start=today - timedelta(days=60)))
    _future_dated("99000001", date(2031, 12, 1))
    summary = service.compute_ratings(actor=SYSTEM)
    assert summary["as_of"] == today.isoformat()
    assert summary["ignored_after"] == 1
    assert _current("importer", "IMP-A").n_declarations == 6
    assert "IMP-FUTURE" not in service.current_ratings_for(["IMP-FUTURE"])
    assert service.describe_summary(summary).endswith(
        f"1 declaration dated after {today.isoformat()} was ignored."
    )
    _db.session.commit()
    recompute_ratings_job()  # the nightly job: the same evaluation date, from the clock
    assert _current("importer", "IMP-A").as_of == today
    login_as("pca_auditor")
    page = client.post("/audit/ratings/recompute", follow_redirects=True).get_data(as_text=True)
    assert f"as of {today.isoformat()}: 2 traders rated" in page
    assert f"1 declaration dated after {today.isoformat()} was ignored" in page
    # An evaluation date set by the user: what lies after it is left out and counted too.
    page = client.post(
        "/audit/ratings/recompute", data={"as_of": "not-a-date"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Evaluation date" in page and "traders rated" not in page


def test_kpis_use_the_clock_and_count_future_declarations(db, client, login_as, make):
    from app.core.time import now_utc
    from app.risk.kpis import targeting_kpis

    today = now_utc().date()
    import_rows([kcs_row(day=today - timedelta(days=3), importer="IMP-K")])
    _future_dated("99000002", date(2031, 12, 1))
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    kpis = targeting_kpis(analyst)
    assert kpis["until"] == today
    assert kpis["ignored_after"] == 1
    from app.extensions import db as _db

    _db.session.commit()
    login_as("risk_analyst")
    page = client.get("/risk/kpis").get_data(as_text=True)
    assert f"1 declaration dated after {today.isoformat()} was ignored." in page


def test_codes_of_code_c_declarations_stay_with_their_unit(db, make):
    """A trader code that only another unit's code-C declarations carry is not named in the
    ratings list, the home panel's list or the trader report (issue 15 sweep, seam rule)."""
    from sqlalchemy import update

    from app.extensions import db as _db
    from app.risk.models import Declaration
    from app.security.access import NotFound

    unit_a, unit_b = make.unit(), make.unit()
    import_rows(_history("IMP-SECRET", n=4, frauds=2) + _history("IMP-OPEN", n=4))
    _db.session.execute(
        update(Declaration)
        .where(Declaration.importer_code == "IMP-SECRET")
        .values(handling_code="C", unit_id=unit_a.id)
    )
    service.compute_ratings(actor=SYSTEM, as_of=DAY)
    a = make.actor(make.user(roles=["pca_auditor"], unit=unit_a))
    b = make.actor(make.user(roles=["pca_auditor"], unit=unit_b))

    def codes(actor):
        return {r.trader_code for r in _db.session.scalars(service.list_ratings(actor=actor))}

    assert {"IMP-SECRET", "IMP-OPEN", "DCL-1"} <= codes(a)
    assert "IMP-SECRET" not in codes(b) and {"IMP-OPEN", "DCL-1"} <= codes(b)
    assert "IMP-SECRET" not in {r.trader_code for r in service.recent_ratings(50, actor=b)}
    with pytest.raises(NotFound):
        service.trader_report("importer", "IMP-SECRET", actor=b)
    assert service.trader_report("importer", "IMP-SECRET", actor=a)["code"] == "IMP-SECRET"
