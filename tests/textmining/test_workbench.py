"""Issue 19 item 10: the workbench edits a mention before promoting it, links with the shared
entity picker, dismisses in bulk, and is open to the analyst roles that review news."""

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security.access import Actor
from app.security.trail import AccessEvent
from app.textmining.models import Mention, WorkbenchDecision
from tests.textmining import factories

pytest.importorskip("app.intel.service")


@pytest.fixture
def article(db, rules_extractor):
    row = factories.article(
        "Customs at the Port of Koper seized cocaine from Ecuador on Tuesday night.",
        title="Cocaine at Koper",
        extractor=rules_extractor,
    )
    db.session.commit()
    return row


def _mention(article, category, name):
    return Mention(
        article_id=article.id,
        category=category,
        text=name,
        canonical=name,
        start=0,
        end=1,
        source="model",
    )


def _decisions():
    return {(d.category, d.canonical): d for d in db.session.scalars(select(WorkbenchDecision))}


def test_promote_with_the_name_and_type_corrected(client, login_as, db, article):
    from app.intel.models import Entity

    db.session.add(_mention(article, "organisation", "Petrovski"))
    db.session.commit()
    login_as("intelligence_officer")
    html = client.get("/news/workbench").get_data(as_text=True)
    assert 'name="entity_type"' in html and 'name="name" value="Petrovski"' in html
    resp = client.post(
        "/news/workbench/promote",
        data={
            "category": "organisation",
            "canonical": "Petrovski",
            "name": "  Goran   Petrovski ",
            "entity_type": "person",
        },
    )
    assert resp.status_code == 302
    decision = _decisions()[("organisation", "Petrovski")]
    entity = db.session.get(Entity, decision.entity_id)
    assert (entity.entity_type, entity.name) == ("person", "Goran Petrovski")
    assert "Petrovski" in [getattr(a, "name", a) for a in entity.aliases]


def test_promote_refuses_an_unknown_type(client, login_as, db, article):
    db.session.add(_mention(article, "organisation", "Acme"))
    db.session.commit()
    login_as("intelligence_officer")
    resp = client.post(
        "/news/workbench/promote",
        data={"category": "organisation", "canonical": "Acme", "entity_type": "planet"},
        follow_redirects=True,
    )
    assert "must be one of person" in resp.get_data(as_text=True)
    assert _decisions() == {}


def test_link_uses_the_shared_entity_picker(client, login_as, db, article):
    from app.intel import service as intel

    user = login_as("intelligence_officer")
    db.session.add(_mention(article, "vessel", "Adriatic Star"))
    vessel = intel.create_entity("vessel", "MV Adriatic Star", actor=Actor.for_user(user))
    db.session.commit()
    html = client.get("/news/workbench").get_data(as_text=True)
    assert 'data-entity-picker="/intel/entities/lookup"' in html or "data-entity-picker=" in html
    assert "js/intel.js" in html
    assert 'type="number" name="entity_id"' not in html
    # text typed without choosing from the list is refused by name, nothing decided
    resp = client.post(
        "/news/workbench/link",
        data={"category": "vessel", "canonical": "Adriatic Star", "entity_id": "Adriatic"},
        follow_redirects=True,
    )
    assert "entity_id" in resp.get_data(as_text=True) and _decisions() == {}
    # the picker puts the chosen entity's id in the field
    resp = client.post(
        "/news/workbench/link",
        data={"category": "vessel", "canonical": "Adriatic Star", "entity_id": str(vessel.id)},
    )
    assert resp.status_code == 302
    assert _decisions()[("vessel", "Adriatic Star")].entity_id == vessel.id


def test_bulk_dismiss_is_one_batch_with_one_trail_row(client, login_as, db, article):
    for name in ("Europol", "Interpol", "Frontex"):
        db.session.add(_mention(article, "organisation", name))
    db.session.commit()
    login_as("intelligence_officer")
    html = client.get("/news/workbench").get_data(as_text=True)
    assert 'form="bulk-dismiss"' in html and 'value="organisation|Europol"' in html
    resp = client.post(
        "/news/workbench/dismiss-many",
        data={"item": ["organisation|Europol", "organisation|Interpol"]},
    )
    assert resp.status_code == 302
    decided = _decisions()
    assert {k[1] for k in decided} == {"Europol", "Interpol"}
    assert {d.status for d in decided.values()} == {"dismissed"}
    rows = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type == "news_workbench")
    ).all()
    assert len(rows) == 1 and rows[0].action == "update"
    assert json.loads(rows[0].details)["dismissed"] == [
        "organisation: Europol",
        "organisation: Interpol",
    ]
    # all or nothing: one already decided refuses the batch, naming it
    resp = client.post(
        "/news/workbench/dismiss-many",
        data={"item": ["organisation|Frontex", "organisation|Europol"]},
        follow_redirects=True,
    )
    assert "was already dismissed" in resp.get_data(as_text=True)
    assert ("organisation", "Frontex") not in _decisions()
    # a single dismissal and a reopening are one row each
    client.post(
        "/news/workbench/dismiss", data={"category": "organisation", "canonical": "Frontex"}
    )
    client.post(f"/news/workbench/decisions/{_decisions()[('organisation', 'Frontex')].id}/undo")
    rows = db.session.scalars(
        select(AccessEvent)
        .where(AccessEvent.record_type == "news_workbench")
        .order_by(AccessEvent.id)
    ).all()
    assert [json.loads(r.details) for r in rows[1:]] == [
        {"dismissed": ["organisation: Frontex"]},
        {"reopened": ["organisation: Frontex"]},
    ]
    # nothing ticked: said so
    resp = client.post("/news/workbench/dismiss-many", data={}, follow_redirects=True)
    assert "tick at least one proposal" in resp.get_data(as_text=True)


def test_bulk_dismiss_needs_the_csrf_token(app, client, login_as, db, article):
    db.session.add(_mention(article, "organisation", "Europol"))
    db.session.commit()
    login_as("intelligence_officer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.post("/news/workbench/dismiss-many", data={"item": ["organisation|Europol"]})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _decisions() == {}


def test_risk_analyst_reviews_without_registering(client, login_as, db, article):
    db.session.add(_mention(article, "organisation", "Europol"))
    db.session.add(_mention(article, "person", "Ana Kovac"))
    db.session.commit()
    login_as("risk_analyst")
    resp = client.get("/news/workbench")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Ana Kovac" in html and "Promote to registry" not in html  # no entity.edit
    client.post(
        "/news/workbench/dismiss", data={"category": "organisation", "canonical": "Europol"}
    )
    assert _decisions()[("organisation", "Europol")].status == "dismissed"
    resp = client.post(
        "/news/workbench/promote", data={"category": "person", "canonical": "Ana Kovac"}
    )
    assert resp.status_code == 403
    assert ("person", "Ana Kovac") not in _decisions()


@pytest.mark.parametrize("role", ["enforcement_officer", "pca_auditor", "administrator"])
def test_other_roles_have_no_workbench(client, login_as, db, role):
    login_as(role)
    assert client.get("/news/workbench").status_code == 403
