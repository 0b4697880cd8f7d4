"""A new registry entity on a screening list reaches the sanctions desk as an alert (issue 20):
whoever judges screening hits is told, each only if they may open the hit, and the alert's
text names the entity by reference and neither the list nor its entry (the seam rule)."""

import json

from sqlalchemy import select

from app.alerts.models import Alert, AlertRecipient
from app.extensions import db as _db
from app.intel import service as intel
from app.screening.hits import ScreeningHit
from tests.screening.factories import company, load_ftm

SENTINEL = "SENTINEL-ENTITY-4711"
ACME = company("NK-acme", "Acme Dual Use Trading FZE", country="ae")
STROY = company("NK-stroy", f"{SENTINEL} Stroytekhimport", country="ru")


def _recipients(alert) -> set[int]:
    return set(
        _db.session.scalars(
            select(AlertRecipient.user_id).where(AlertRecipient.alert_id == alert.id)
        )
    )


def test_the_sanctions_desk_is_alerted_when_a_new_entity_is_on_a_list(db, make):
    load_ftm([ACME], name="Public sanctions")
    desk = make.unit(code="SANC", name="Sanctions desk")
    analyst = make.user(roles=["risk_analyst"], unit=desk)  # judges screening hits
    officer = make.user(roles=["enforcement_officer"], unit=desk)  # does not
    db.session.commit()
    actor = make.actor(make.user(roles=["intelligence_officer"]))
    entity = intel.create_entity("organisation", "Acme Dual-Use Trading", actor=actor)
    intel.create_entity("organisation", "Northwind Traders", actor=actor)
    db.session.commit()

    [hit] = db.session.scalars(select(ScreeningHit)).all()
    [alert] = db.session.scalars(select(Alert)).all()
    assert (alert.source_kind, alert.subject_type, alert.subject_id) == (
        "screening",
        "screening_hit",
        hit.id,
    )
    assert (alert.severity, hit.subject_id) == ("high", entity.id)
    assert analyst.id in _recipients(alert)
    assert officer.id not in _recipients(alert)
    assert "Acme Dual-Use Trading" in alert.title  # a public entity is named
    assert "Public sanctions" not in alert.title + alert.source_label + alert.subject_label


def test_a_confidential_hit_reaches_only_who_may_open_it_and_names_nothing(db, make):
    load_ftm([STROY], name=f"{SENTINEL} confidential list", sensitivity="C")
    unit_a, unit_b = make.unit(code="UA"), make.unit(code="UB")
    owner = make.user(roles=["intelligence_officer"], unit=unit_a)  # screening.confidential
    same_unit_analyst = make.user(roles=["risk_analyst"], unit=unit_a)  # not confidential
    other_unit_officer = make.user(roles=["intelligence_officer"], unit=unit_b)
    db.session.commit()
    entity = intel.create_entity(
        "organisation",
        f"{SENTINEL} Stroytekhimport",
        actor=make.actor(owner),
        handling_code="C",
        unit_id=unit_a.id,
    )
    db.session.commit()

    [alert] = db.session.scalars(select(Alert)).all()
    assert _recipients(alert) == {owner.id}
    assert {same_unit_analyst.id, other_unit_officer.id}.isdisjoint(_recipients(alert))
    stored = json.dumps(
        [alert.title, alert.source_label, alert.subject_label, alert.reasons], ensure_ascii=False
    )
    assert SENTINEL not in stored  # neither the code-C entity, the list nor its entry
    assert str(entity.id)  # the entity exists; its name travels only by reference


def test_an_entity_no_list_names_raises_no_alert(db, make):
    load_ftm([ACME], name="Public sanctions")
    make.user(roles=["risk_analyst"])
    db.session.commit()
    intel.create_entity(
        "organisation",
        "Northwind Traders",
        actor=make.actor(make.user(roles=["intelligence_officer"])),
    )
    db.session.commit()
    assert db.session.scalars(select(Alert)).all() == []
