"""New declarations are assessed before they are written (issue 22): one declaration or a
batch is written by INSERTs that already hold the assessment - never read back, never
UPDATEd - and the objects returned are the rows as stored, in the session."""

import pytest
from sqlalchemy import event, select

from app.extensions import db as _db
from app.risk import engine as engine_mod
from app.risk.assessment import submit_declaration, submit_declarations
from app.risk.models import Declaration, ProfileHit
from app.security.access import Actor
from tests.risk.factories import body, cond, item, no_random, profile, tree

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()
    yield
    engine_mod.reset_cache()


@pytest.fixture
def statements(db):
    seen = []

    def note(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(_db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(_db.engine, "before_cursor_execute", note)


def _phones_profile():
    no_random()
    p = profile(conditions=tree(cond("hs_code", "prefix", ["8517"]), cond("origin", "eq", "CN")))
    _db.session.commit()
    return p


def _touching(statements, verb, table):
    return [s for s in statements if s.startswith(verb) and f" {table} " in f"{s} "]


def _as_stored(numbers):
    _db.session.expire_all()
    decls = _db.session.scalars(select(Declaration).where(Declaration.number.in_(numbers)))
    return {
        d.number: (
            d.channel,
            d.assessment["profiles"],
            [(i.line_no, i.hs_code, i.ml_score) for i in d.items],
        )
        for d in decls
    }


def test_a_batch_is_written_once_and_not_read_back(db, statements):
    p = _phones_profile()
    bodies = [
        body(f"WR-{n}", items=[item(hs_code="8517620000" if n % 2 else "6109100000", origin="CN")])
        for n in range(6)
    ]
    statements.clear()
    decls = submit_declarations(bodies, actor=SYSTEM)
    _db.session.flush()

    assert not _touching(statements, "UPDATE", "risk_declaration")
    assert not [
        s for s in statements if s.startswith("SELECT") and "risk_declaration.assessment" in s
    ]
    assert len(_touching(statements, "INSERT INTO", "risk_declaration")) == 1
    assert len(_touching(statements, "INSERT INTO", "risk_declaration_item")) == 1
    # What the caller holds is what was stored: persistent rows with ids, items and hits.
    assert [d.number for d in decls] == [b["number"] for b in bodies]
    assert all(d in _db.session and d.id and all(i.id for i in d.items) for d in decls)
    held = {
        d.number: (
            d.channel,
            d.assessment["profiles"],
            [(i.line_no, i.hs_code, i.ml_score) for i in d.items],
        )
        for d in decls
    }
    assert {n for n, (channel, *_) in held.items() if channel == "red"} == {
        "WR-1",
        "WR-3",
        "WR-5",
    }
    assert _as_stored(list(held)) == held
    hits = _db.session.scalars(
        select(ProfileHit.declaration_id).where(ProfileHit.profile_id == p.id)
    )
    assert sorted(hits) == sorted(d.id for d in decls if d.channel == "red")


def test_one_declaration_writes_its_items_in_one_statement(db, statements):
    _phones_profile()
    three = [item(hs_code="8517620000", origin="CN"), item(), item(hs_code="6109100000")]
    statements.clear()
    decl = submit_declaration(body("WR-ONE", items=three), actor=SYSTEM)
    _db.session.flush()

    assert len(_touching(statements, "INSERT INTO", "risk_declaration_item")) == 1
    assert not _touching(statements, "UPDATE", "risk_declaration")
    assert decl.channel == "red"
    assert [i.line_no for i in decl.items] == [1, 2, 3]
    assert _as_stored(["WR-ONE"]) == {
        "WR-ONE": (
            "red",
            decl.assessment["profiles"],
            [(i.line_no, i.hs_code, i.ml_score) for i in decl.items],
        )
    }
