"""Strict, faithful declaration intake (issue 17 item 1): each seen case is refused with a 422
naming the field (and the value) instead of being stored as something else."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.reference import service as reference
from app.risk import assessment
from app.risk import engine as engine_mod
from app.risk.models import Declaration, DeclarationItem
from app.security.access import Actor
from tests.risk.factories import body, item

TODAY = date.today()


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _post(client, token, json):
    return client.post(
        "/api/v1/declarations", json=json, headers={"Authorization": f"Bearer {token}"}
    )


def _fields(resp):
    assert resp.status_code == 422, resp.json
    return resp.json["error"]["fields"]


def _stored(db):
    return db.session.scalar(select(func.count(Declaration.id)))


@pytest.mark.parametrize(("typo", "meant"), [("orgin", "origin"), ("tax_rat", "tax_rate")])
def test_misspelled_item_field_is_refused_by_the_service_itself(db, typo, meant):
    """Seen: ``orgin``/``tax_rat`` were dropped and the item stored without origin or rate.
    The service refuses them (not only the API's allow-list): every path is strict."""
    good = item()
    value = good.pop(meant)
    bad = body(items=[item(), item(), {**good, typo: value}])
    with pytest.raises(ValidationError) as exc:
        assessment.submit_declaration(bad, actor=Actor.system("test"))
    assert exc.value.fields[f"items[2].{typo}"].startswith("unknown field")
    assert _stored(db) == 0


def test_misspelled_item_field_in_a_batch_is_named_by_path(db):
    bad = body(items=[{**item(), "orgin": "CN"}])
    with pytest.raises(ValidationError) as exc:
        assessment.submit_declarations([body(), bad], actor=Actor.system("test"))
    assert "declarations[1].items[0].orgin" in exc.value.fields
    assert _stored(db) == 0


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        # Seen: a date with trailing text was cut to its first 10 characters.
        ({"date": f"{TODAY.isoformat()}T10:00:00"}, "date", "is not a date (YYYY-MM-DD)"),
        ({"date": f"{TODAY.isoformat()}garbage"}, "date", "is not a date (YYYY-MM-DD)"),
        # Seen: a date five years ahead was stored.
        (
            {"date": (TODAY + timedelta(days=5 * 365)).isoformat()},
            "date",
            "days after today",
        ),
        ({"date": (TODAY - timedelta(days=3000)).isoformat()}, "date", "days before today"),
        # Seen: an unknown office, transport mode "teleport", country "XX".
        ({"office": "NOWHERE"}, "office", "'NOWHERE' is not in the list of customs offices"),
        (
            {"transport_mode": "teleport"},
            "transport_mode",
            "'teleport' is not in the list of transport modes",
        ),
        ({"dispatch_country": "XX"}, "dispatch_country", "'XX' is not in the list of countries"),
        ({"procedure": "0000"}, "procedure", "'0000' is not in the list of procedure codes"),
        ({"items": [item(origin="XX")]}, "items[0].origin", "'XX' is not in the list"),
        ({"items": [item(departure="XX")]}, "items[0].departure", "'XX' is not in the list"),
        ({"items": [item(tax_type="NOPE")]}, "items[0].tax_type", "not in the list of tax types"),
        # Seen: a tax rate of 5000 and a value of 1e308 were stored.
        ({"items": [item(tax_rate=5000)]}, "items[0].tax_rate", "5000 % is above 100 %"),
        ({"items": [item(value=1e308)]}, "items[0].value", "is above the highest accepted"),
        ({"items": [item(mass=1e10)]}, "items[0].mass", "is above the highest accepted"),
        ({"items": [item(value="1e308")]}, "items[0].value", "is not a number"),
        ({"items": [item(value=-1)]}, "items[0].value", "zero or more"),
    ],
)
def test_api_refuses_what_it_would_not_store_faithfully(client, make, db, fields, where, message):
    _, token = make.api_client(["declarations:write"])
    got = _fields(_post(client, token, body(**fields)))
    assert message in got[where], got
    assert _stored(db) == 0


def test_a_valid_declaration_is_stored_exactly(client, make, db):
    _, token = make.api_client(["declarations:write"])
    sent = body("EXACT-1", date=TODAY.isoformat(), items=[item(tax_rate=100, value=1e11)])
    assert _post(client, token, sent).status_code == 201
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "EXACT-1"))
    assert decl.declaration_date == TODAY and decl.office == "BCP-N"
    stored = db.session.scalar(select(DeclarationItem))
    assert (stored.origin_country, stored.tax_rate, stored.value) == ("CN", 100.0, 1e11)


def test_a_tax_type_may_allow_rates_above_100(client, make, db):
    _, token = make.api_client(["declarations:write"])
    # W2 (KCS) allows up to 1000 %; A does not go above 100 %.
    ok = _post(client, token, body(items=[item(tax_type="W2", tax_rate=754.3)]))
    assert ok.status_code == 201, ok.json
    got = _fields(_post(client, token, body(items=[item(tax_type="A", tax_rate=754.3)])))
    assert got["items[0].tax_rate"].startswith("754.3 % is above 100 %")
    got = _fields(_post(client, token, body(items=[item(tax_type="W2", tax_rate=1000.5)])))
    assert "above 1000 %" in got["items[0].tax_rate"]


def test_a_deactivated_code_is_refused_and_an_added_one_accepted(client, make, db):
    admin = make.actor(make.user(roles=["administrator"]))
    reference.set_active(reference.lookup("office", "PORT-S").id, False, actor=admin)
    reference.add_entry("office", {"code": "NEW-1", "label": "New office"}, actor=admin)
    db.session.commit()
    _, token = make.api_client(["declarations:write"])
    got = _fields(_post(client, token, body(office="PORT-S")))
    assert got["office"] == "'PORT-S' is deactivated in the list of customs offices"
    assert _post(client, token, body(office="NEW-1")).status_code == 201


def test_the_date_window_is_configurable(app, client, make, db):
    _, token = make.api_client(["declarations:write"])
    two_days_ago = (TODAY - timedelta(days=2)).isoformat()
    old = app.config["TOLLGATE_DECLARATION_DATE_PAST_DAYS"]
    app.config["TOLLGATE_DECLARATION_DATE_PAST_DAYS"] = 1
    try:
        got = _fields(_post(client, token, body(date=two_days_ago)))
    finally:
        app.config["TOLLGATE_DECLARATION_DATE_PAST_DAYS"] = old
    assert got["date"].startswith(f"{two_days_ago} is more than 1 days before today")
    assert _post(client, token, body(date=two_days_ago)).status_code == 201


def test_every_error_of_a_batch_is_named_at_once(client, make, db):
    _, token = make.api_client(["declarations:write"])
    bad = body(office="NOWHERE", transport_mode="teleport", items=[item(origin="XX", value=1e308)])
    fields = _fields(_post(client, token, {"declarations": [body(), bad]}))
    assert {
        "declarations[1].office",
        "declarations[1].transport_mode",
        "declarations[1].items[0].origin",
        "declarations[1].items[0].value",
    } <= set(fields)
    assert _stored(db) == 0
