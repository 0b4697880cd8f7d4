"""The share panel on case, entity and report pages; sharing and revoking through the forms;
dissemination to a unit through the report page."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.intel import reports
from app.security.models import RecordShare
from tests.cases.factories import seizure
from tests.intel.factories import entity


def _until(days=30):
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def world(make, db):
    unit_a, unit_b = make.unit(code="VW-A"), make.unit(code="VW-B")
    owner = make.user(roles=["intelligence_officer", "enforcement_officer"], unit=unit_a)
    reader = make.user(roles=["intelligence_officer", "enforcement_officer"], unit=unit_b)
    actor = make.actor(owner)
    w = {
        "unit_b": unit_b,
        "owner": owner,
        "reader": reader,
        "report": reports.create_report(
            "Courier network", "text", "2", "B", actor=actor, handling_code="C"
        ),
        "case": seizure(actor, title="Tobacco in a van", handling_code="C"),
        "entity": entity(actor, "Hidden Holdings", handling_code="C"),
    }
    db.session.commit()
    return w


PAGES = {
    "report": lambda w: f"/intel/reports/{w['report'].id}",
    "case": lambda w: f"/cases/{w['case'].id}",
    "entity": lambda w: f"/intel/entities/{w['entity'].id}",
}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_share_and_revoke_from_the_record_page(kind, app, make, world):
    owner_client, reader_client = app.test_client(), app.test_client()
    make.sign_in(owner_client, world["owner"])
    make.sign_in(reader_client, world["reader"])
    url = PAGES[kind](world)
    record = world[kind]
    assert reader_client.get(url).status_code == 404

    page = owner_client.get(url).get_data(as_text=True)
    assert 'id="share-panel"' in page and 'id="share-form"' in page
    resp = owner_client.post(
        f"/shares/{kind}/{record.id}",
        data={
            "share-unit": str(world["unit_b"].id),
            "share-reason": "Joint op",
            "share-ends": _until(),
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    _db.session.rollback()
    share = _db.session.scalars(select(RecordShare)).one()
    assert (share.record_type, share.record_id, share.reason) == (kind, record.id, "Joint op")

    # The recipient opens it and sees the share that names it, without a form or button.
    page = reader_client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="share-list"' in text and "Joint op" in text
    assert 'id="share-form"' not in text and "revoke-share" not in text
    assert reader_client.post(f"/shares/{share.id}/revoke").status_code == 403

    page = owner_client.get(url).get_data(as_text=True)
    assert f'data-share-id="{share.id}"' in page and "revoke-share" in page
    resp = owner_client.post(f"/shares/{share.id}/revoke", data={"revoke-reason": "over"})
    assert resp.status_code == 302
    assert reader_client.get(url).status_code == 404


def test_form_errors_name_the_field_and_share_nothing(app, make, world):
    client = app.test_client()
    make.sign_in(client, world["owner"])
    url = PAGES["report"](world)
    resp = client.post(
        f"/shares/report/{world['report'].id}",
        data={
            "share-unit": str(world["unit_b"].id),
            "share-reason": "Joint op",
            "share-ends": "2020-01-01",
        },
        follow_redirects=True,
    )
    assert "Share not made" in resp.get_data(as_text=True)
    assert "expires_dt: must be in the future" in resp.get_data(as_text=True)
    resp = client.post(
        f"/shares/report/{world['report'].id}",
        data={"share-username": "nobody-here", "share-reason": "Joint op", "share-ends": _until()},
        follow_redirects=True,
    )
    assert "username: no such user" in resp.get_data(as_text=True)
    assert resp.request.path == url
    _db.session.rollback()
    assert _db.session.scalars(select(RecordShare)).all() == []


def test_an_outsider_cannot_share_and_sees_nothing(app, make, world):
    client = app.test_client()
    make.sign_in(client, world["reader"])
    resp = client.post(
        f"/shares/report/{world['report'].id}",
        data={"share-unit": str(world["unit_b"].id), "share-reason": "x", "share-ends": _until()},
    )
    assert resp.status_code == 404
    assert "Courier network" not in resp.get_data(as_text=True)


def test_dissemination_to_a_unit_from_the_report_page(app, make, world):
    owner_client, reader_client = app.test_client(), app.test_client()
    make.sign_in(owner_client, world["owner"])
    make.sign_in(reader_client, world["reader"])
    report_id = world["report"].id
    resp = owner_client.post(
        f"/intel/reports/{report_id}/disseminate",
        data={
            "recipient": "",
            "purpose": "Joint op",
            "version": "full",
            "unit": str(world["unit_b"].id),
            "until": _until(),
        },
    )
    assert resp.status_code == 302
    page = reader_client.get(f"/intel/reports/{report_id}")
    assert page.status_code == 200 and "Courier network" in page.get_data(as_text=True)
