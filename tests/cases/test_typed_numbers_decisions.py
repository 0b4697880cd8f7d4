"""Issue 19 item 1: numbers as people type them, dates of past events, the offence decision as
a decision (re-run on every change of the evaded duties, corrected by a supervisor)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.cases import fields, offences, service
from app.cases.models import Case, CaseDecision
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.security.access import AccessDenied
from app.security.trail import AccessEvent
from tests.cases.factories import officer, seizure


def _offence(actor):
    return service.open_case("offence", actor=actor, title="Undervalued shoes")


def _decide(client, case, evaded, penalty="", lang="en"):
    return client.post(
        f"/cases/{case.id}/decision",
        data={
            "evaded_duties": evaded,
            "penalty": penalty,
            "legal_provision": "Customs Code Art. 273",
            "decision_text": "Decided on the documents.",
        },
        headers={"Accept-Language": lang},
        follow_redirects=True,
    )


def test_twelve_thousand_five_hundred_typed_in_english_is_not_twelve_fifty(
    client, login_as, make, db
):
    """Seen: "12,500" was stored as 12.50 EUR with an offence decision and a 2.00 penalty."""
    user = login_as("enforcement_officer")
    case = _offence(make.actor(user))
    db.session.commit()
    page = _decide(client, case, "12,500", penalty="2").get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Case, case.id).decision_type is None  # the penalty is the court's
    assert "court" in page
    _decide(client, case, "12,500")
    db.session.rollback()
    case = db.session.get(Case, case.id)
    assert case.evaded_duties == Decimal("12500.00")
    assert case.decision_type == "criminal_report"


def test_a_german_locale_reads_the_point_as_grouping(client, login_as, make, db):
    user = login_as("enforcement_officer")
    case = _offence(make.actor(user))
    db.session.commit()
    _decide(client, case, "12.500,00", lang="de-DE,de;q=0.9,en;q=0.5")
    db.session.rollback()
    assert db.session.get(Case, case.id).evaded_duties == Decimal("12500.00")


def test_an_ambiguous_amount_is_refused_naming_the_field(client, login_as, make, db):
    user = login_as("enforcement_officer")
    case = _offence(make.actor(user))
    db.session.commit()
    page = _decide(client, case, "12,50").get_data(as_text=True)
    db.session.rollback()
    assert "evaded duties: &#39;12,50&#39; is not a number as written in en" in page
    assert db.session.get(Case, case.id).evaded_duties is None


@pytest.mark.parametrize(
    ("locale", "typed", "expected"),
    [
        ("en", "12,500", "12500"),
        ("en", "1,234.56", "1234.56"),
        ("de", "12.500,00", "12500"),
        ("de", "12,50", "12.5"),
        ("sr_Latn", "12.500,00", "12500"),
        ("fr", "12 500,00", "12500"),
    ],
)
def test_amounts_read_in_the_typists_locale(locale, typed, expected):
    assert fields.amount(typed, "value", locale) == Decimal(expected)


@pytest.mark.parametrize(
    ("locale", "typed"), [("en", "12,50"), ("en", "12.500,00"), ("de", "12.5"), ("en", "12.505")]
)
def test_amounts_that_do_not_fit_the_locale_are_refused(locale, typed):
    with pytest.raises(ValidationError) as err:
        fields.amount(typed, "value", locale)
    assert list(err.value.fields) == ["value"]


def test_without_a_locale_a_comma_before_three_digits_is_refused(make, db):
    """The API and the importer have no typist's locale: "12,500" is not guessed."""
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        service.open_case("offence", actor=actor, title="x", evaded_duties="12,500")
    assert "ambiguous" in err.value.fields["evaded_duties"]


def test_a_past_event_cannot_be_dated_after_today(make, db):
    """Seen: a seizure dated in 2030 was accepted."""
    _, actor = officer(make)
    tomorrow = (now_utc() + timedelta(days=1)).date().isoformat()
    with pytest.raises(ValidationError) as err:
        seizure(actor, event_dt=f"{tomorrow}T10:00")
    assert "in the future" in err.value.fields["event_dt"]
    assert seizure(actor, event_dt=now_utc().date().isoformat()).event_dt is not None


def test_editing_the_evaded_duties_re_runs_the_threshold_rule(make, db):
    """Seen: 12,500 EUR stayed labelled "Offence decision" after the amount was corrected."""
    _, actor = officer(make)
    case = _offence(actor)
    offences.decide_offence(
        case.id,
        actor=actor,
        evaded_duties=Decimal("12.50"),
        penalty=Decimal("2"),
        legal_provision="Art. 1",
        decision_text="x",
    )
    assert case.decision_type == "offence_decision"
    service.update_case(case.id, actor=actor, evaded_duties=Decimal("12500"))
    db.session.flush()
    assert case.decision_type == "criminal_report"
    assert case.penalty is None  # withdrawn: the court sets it
    versions = db.session.scalars(
        select(CaseDecision).where(CaseDecision.case_id == case.id).order_by(CaseDecision.version)
    ).all()
    assert [(v.version, v.origin, v.decision_type) for v in versions] == [
        (1, "decision", "offence_decision"),
        (2, "threshold", "criminal_report"),
    ]
    assert versions[0].evaded_duties == Decimal("12.50")  # the first version is kept
    assert "Threshold rule re-run" in case.journal[-1].text
    assert "withdrawn" in case.journal[-1].text
    with pytest.raises(ValidationError, match="already decided"):
        offences.decide_offence(
            case.id, actor=actor, evaded_duties="10", legal_provision="A", decision_text="x"
        )


def test_a_supervisor_corrects_a_decision_with_a_reason(make, db):
    unit = make.unit()
    _, officer_actor = officer(make, unit)
    _, supervisor = officer(make, unit, roles=["supervisor"])
    case = _offence(officer_actor)
    offences.decide_offence(
        case.id, actor=officer_actor, evaded_duties="300", legal_provision="A", decision_text="x"
    )
    with pytest.raises(AccessDenied):
        offences.correct_decision(
            case.id,
            actor=officer_actor,
            reason="typo",
            evaded_duties="30",
            legal_provision="A",
            decision_text="x",
        )
    with pytest.raises(ValidationError) as err:
        offences.correct_decision(
            case.id,
            actor=supervisor,
            reason="",
            evaded_duties="30",
            legal_provision="A",
            decision_text="x",
        )
    assert set(err.value.fields) == {"reason"}
    offences.correct_decision(
        case.id,
        actor=supervisor,
        reason="The invoice showed 6,300 EUR evaded, not 300",
        evaded_duties="6300",
        legal_provision="A",
        decision_text="Referred to the prosecutor.",
    )
    db.session.flush()
    assert case.decision_type == "criminal_report"
    assert [v.origin for v in case.decisions] == ["decision", "correction"]
    assert case.decisions[1].reason.startswith("The invoice")
    event = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_id == str(case.id)).order_by(AccessEvent.id)
    ).all()[-1]
    assert event.action == "update" and "The invoice" in event.details


def test_the_case_page_offers_the_correction_to_a_supervisor_only(client, login_as, make, db):
    unit = make.unit()
    user = login_as("supervisor", unit=unit)
    actor = make.actor(user)
    case = _offence(actor)
    offences.decide_offence(
        case.id, actor=actor, evaded_duties="300", legal_provision="A", decision_text="x"
    )
    db.session.commit()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Correct the decision" in page
    resp = client.post(
        f"/cases/{case.id}/decision/correct",
        data={
            "reason": "Wrong amount",
            "evaded_duties": "6,300",
            "penalty": "",
            "legal_provision": "A",
            "decision_text": "y",
        },
        follow_redirects=True,
    )
    assert resp.status_code == 200
    db.session.rollback()
    assert db.session.get(Case, case.id).evaded_duties == Decimal("6300.00")
    login_as("enforcement_officer", unit=unit)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Correct the decision" not in page
