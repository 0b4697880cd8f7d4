"""Named parties of a declaration (issue 20): the ``parties`` block is stored exactly as sent,
or the declaration is refused with a 422 naming the field; nothing of a refused declaration
is stored."""

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.risk import assessment
from app.risk import engine as engine_mod
from app.risk.models import Declaration
from app.risk.parties import DeclarationParty
from app.security.access import Actor
from tests.risk.factories import body

PARTIES = [
    {
        "role": "importer",
        "name": "  Obshchestvo s ogranichennoy otvetstvennostyu «Ромашка»",
        "kind": "company",
        "country": "RU",
        "identifiers": ["INN 7701234567", "LEI 5493001KJTIIGC8Y1R12"],
    },
    {"role": "named_person", "name": "Иван Петров", "kind": "person", "birth_date": "1971-04-02"},
]


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _post(client, token, json):
    return client.post(
        "/api/v1/declarations", json=json, headers={"Authorization": f"Bearer {token}"}
    )


def test_parties_are_stored_as_sent_through_the_api(db, client, make):
    _, token = make.api_client(["declarations:write", "declarations:read"])
    resp = _post(client, token, body("DP-1", parties=PARTIES))
    assert resp.status_code == 201, resp.json
    db.session.rollback()
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "DP-1"))
    stored = [p.as_dict() for p in decl.named_parties]
    assert stored == [
        {**PARTIES[0], "birth_date": None},
        {**PARTIES[1], "country": None, "identifiers": []},
    ]


@pytest.mark.parametrize(
    ("party", "where", "message"),
    [
        ({"role": "importer", "name": "X", "nickname": "Y"}, "parties[0].nickname", "unknown"),
        ({"role": "buyer", "name": "X"}, "parties[0].role", "must be one of"),
        ({"role": "importer"}, "parties[0].name", "is required"),
        ({"role": "importer", "name": "   "}, "parties[0].name", "must not be empty"),
        ({"role": "importer", "name": "X", "country": "XX"}, "parties[0].country", "'XX'"),
        ({"role": "importer", "name": "X", "country": "ru"}, "parties[0].country", "alpha-2"),
        (
            {"role": "named_person", "name": "X", "birth_date": "1971-04-02T00:00"},
            "parties[0].birth_date",
            "is not a date",
        ),
        (
            {"role": "importer", "name": "X", "kind": "company", "birth_date": "1971-04-02"},
            "parties[0].birth_date",
            "only a person",
        ),
        ({"role": "importer", "name": "X", "identifiers": "7701"}, "parties[0].identifiers", ""),
        ({"role": "importer", "name": "X", "identifiers": [7701]}, "parties[0].identifiers[0]", ""),
        ({"role": "importer", "name": "X" * 301}, "parties[0].name", "longer than 300"),
    ],
)
def test_a_bad_party_is_refused_naming_its_field(db, party, where, message):
    with pytest.raises(ValidationError) as exc:
        assessment.submit_declaration(body(parties=[party]), actor=Actor.system("test"))
    assert message in exc.value.fields[where]
    assert db.session.scalar(select(func.count(Declaration.id))) == 0
    assert db.session.scalar(select(func.count(DeclarationParty.id))) == 0


def test_the_api_names_an_unknown_party_key_in_a_batch(db, client, make):
    _, token = make.api_client(["declarations:write"])
    bad = body(parties=[{"role": "importer", "name": "X", "nickname": "Y"}])
    resp = _post(client, token, {"declarations": [body(), bad]})
    assert resp.status_code == 422
    assert any("parties[0].nickname" in key for key in resp.json["error"]["fields"]), resp.json
    assert db.session.scalar(select(func.count(Declaration.id))) == 0


def test_a_batch_stores_each_declarations_parties(db, client, make):
    _, token = make.api_client(["declarations:write"])
    batch = [body("DP-B1", parties=PARTIES[:1]), body("DP-B2"), body("DP-B3", parties=PARTIES)]
    resp = _post(client, token, {"declarations": batch})
    assert resp.status_code == 201, resp.json
    db.session.rollback()
    stored = {
        d.number: [p.name for p in d.named_parties] for d in db.session.scalars(select(Declaration))
    }
    assert stored == {
        "DP-B1": [PARTIES[0]["name"]],
        "DP-B2": [],
        "DP-B3": [PARTIES[0]["name"], PARTIES[1]["name"]],
    }
