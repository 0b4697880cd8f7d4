"""Every declaration's parties screened at assessment (issue 20): the derived fields
``party_screening_score`` and ``party_on_list`` send a hit to red, a sensitive profile alerts
the sanctions desk, the assessment names the list entry and why it matched, and the hit is
recorded. Real lists, loaded through the real loader; the real matcher."""

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.risk import engine as engine_mod
from app.risk import providers, rules
from app.risk.assessment import fields_catalogue
from app.screening.hits import ScreeningHit
from app.security.access import Actor
from tests.risk.factories import body, cond, no_random, profile, tree
from tests.screening.factories import company, load_ftm, person, record_hits, submit

LIST = "Test sanctions"
ENTRIES = [
    company("NK-stroy", "ООО Стройтехимпорт", country="ru", innCode=["7701234567"]),
    company("NK-acme", "Acme Dual Use Trading FZE", country="ae"),
    person("NK-ivanov", "Иван Петрович Сидоров", birth="1971-04-02", country="ru"),
]


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()
    assert providers.has_party_screener()


@pytest.fixture
def listed(db):
    load_ftm(ENTRIES, name=LIST)
    no_random()
    db.session.commit()


def on_list_profile(**kw):
    return profile(
        name="Party on sanctions list",
        conditions=tree(cond("party_on_list", "on_any", [LIST])),
        channel="red",
        **kw,
    )


def importer(name, **kw):
    return {"role": "importer", "name": name, "kind": "company", **kw}


def hits_of(db, decl):
    return db.session.scalars(
        select(ScreeningHit).where(
            ScreeningHit.subject_type == "declaration", ScreeningHit.subject_id == decl.id
        )
    ).all()


def test_the_rule_editor_offers_the_screening_fields(db):
    offered = {f["name"]: f for f in fields_catalogue()}
    assert offered["party_screening_score"]["ops"][:1] == ["eq"]
    assert "gte" in offered["party_screening_score"]["ops"]
    assert offered["party_on_list"]["ops"] == ["on_any", "on_none"]
    tree_ = rules.validate(tree(cond("party_on_list", "on_any", "Test sanctions, UN")))
    assert tree_["conditions"][0]["value"] == ["Test sanctions", "UN"]


def test_a_transliterated_importer_goes_red_naming_the_entry(db, listed, make):
    desk = make.unit(code="SANC", name="Sanctions desk")
    officer = make.user(roles=["risk_analyst"], unit=desk)
    on_list_profile(is_sensitive=True, recipients={"units": [desk.id]})
    decl = submit(body(parties=[importer("Stroytekhimport LLC", country="RU")]))
    assert decl.channel == "red"
    screening = decl.assessment["screening"]
    assert screening["parties"] == 1
    [match] = screening["matches"]
    assert (match["list_name"], match["entry_id"]) == (LIST, "NK-stroy")
    assert match["entry_caption"] == "ООО Стройтехимпорт"
    assert match["score"] >= match["threshold"]
    assert match["reasons"], "the assessment says why it matched"
    assert decl.assessment["profiles"][0]["name"] == "Party on sanctions list"
    [hit] = hits_of(db, decl)
    assert (hit.role, hit.entry_id, hit.party["name"]) == (
        "importer",
        "NK-stroy",
        "Stroytekhimport LLC",
    )
    alert = db.session.scalar(select(Alert).where(Alert.subject_id == decl.id))
    assert alert is not None
    assert officer.id in {r.user_id for r in alert.recipients}


def test_an_unlisted_party_stays_green_and_records_nothing(db, listed):
    on_list_profile()
    decl = submit(body(parties=[importer("Northwind Traders Ltd", country="GB")]))
    assert decl.channel == "green"
    assert decl.assessment["screening"] == {"parties": 1, "matches": [], "more": 0, "cleared": []}
    assert hits_of(db, decl) == []


def test_the_score_is_a_number_field_for_rules(db, listed):
    profile(
        name="Strong screening score",
        conditions=tree(cond("party_screening_score", "gte", 0.5)),
        channel="orange",
    )
    person_party = {
        "role": "named_person",
        "name": "Ivan Petrovich Sidorov",
        "kind": "person",
        "birth_date": "1971-04-02",
    }
    decl = submit(body(parties=[person_party]))
    assert decl.channel == "orange"
    [match] = decl.assessment["screening"]["matches"]
    assert match["entry_id"] == "NK-ivanov"


def test_without_active_lists_nothing_is_screened(db):
    no_random()
    decl = submit(body(parties=[importer("Stroytekhimport LLC")]))
    assert decl.assessment["screening"] is None
    assert decl.channel == "green"


def test_a_party_sent_by_code_only_is_screened_by_its_registry_entity(db, listed):
    from app.intel import service as intel

    agent = Actor.system("test")
    agent = agent  # system actors hold every permission
    entity = intel.create_entity(
        "organisation",
        "Acme Dual-Use Trading F.Z.E.",
        actor=agent,
        identifiers={"trader_code": "IMP-ACME"},
    )
    db.session.commit()
    on_list_profile()
    decl = submit(body(importer="IMP-ACME"))
    assert decl.channel == "red"
    [match] = decl.assessment["screening"]["matches"]
    assert match["entry_id"] == "NK-acme"
    assert match["party_key"] == f"entity:{entity.id}"


def test_the_api_names_the_entry_and_why(db, listed, client, make):
    on_list_profile()
    _, token = make.api_client(["declarations:write", "declarations:read"])
    resp = client.post(
        "/api/v1/declarations",
        json=body("SCR-API-1", parties=[importer("Stroytekhimport LLC")]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["channel"] == "red"
    [match] = resp.json["screening"]["matches"]
    assert match["entry_id"] == "NK-stroy"
    assert match["list"] == LIST
    assert match["reasons"]


def test_a_confidential_list_is_not_named_to_a_reader_without_the_permission(db, client, make):
    load_ftm(ENTRIES, name="Watch list C", sensitivity="C")
    no_random()
    db.session.commit()
    profile(conditions=tree(cond("party_screening_score", "gte", 0.5)), channel="red")
    _, token = make.api_client(["declarations:write", "declarations:read"])
    resp = client.post(
        "/api/v1/declarations",
        json=body("SCR-C-1", parties=[importer("Stroytekhimport LLC")]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["channel"] == "red"
    [match] = resp.json["screening"]["matches"]
    # an API client does not hold screening.confidential
    assert match["list"] == "an entry of a confidential screening list"
    assert match["entry"] is None and match["entry_id"] is None and match["reasons"] == []
    assert "Watch list C" not in resp.get_data(as_text=True)
    assert "Стройтехимпорт" not in resp.get_data(as_text=True)
    # on the page: a risk analyst (no screening.confidential) vs an intelligence officer
    decl_id = resp.json["id"]
    analyst = make.user(roles=["risk_analyst"])
    make.sign_in(client, analyst)
    page = client.get(f"/risk/declarations/{decl_id}").get_data(as_text=True)
    assert "Watch list C" not in page and "Стройтехимпорт" not in page
    assert "an entry of a confidential screening list" in page
    officer = make.user(roles=["intelligence_officer", "risk_analyst"])
    make.sign_in(client, officer)
    page = client.get(f"/risk/declarations/{decl_id}").get_data(as_text=True)
    assert "Watch list C" in page and "Стройтехимпорт" in page


def test_a_screener_failure_does_not_hold_the_channel_back(db, listed, monkeypatch):
    from app.screening import receivers

    def broken(decl):
        raise RuntimeError("index gone")

    monkeypatch.setattr(providers, "_party_screener", broken)
    on_list_profile()
    decl = submit(body(parties=[importer("Stroytekhimport LLC")]))
    assert decl.channel == "green"
    assert decl.assessment["screening"] is None
    assert db.session.scalar(select(func.count(ScreeningHit.id))) == 0
    assert receivers.screen_declaration  # the real one is registered again after the test


def test_the_demo_seeds_a_list_a_desk_and_a_red_declaration(db, runner):
    """`tollgate demo load` (screening part): a listed importer's declaration is red, names
    the entry, and the sanctions desk holds the alert."""
    from app.risk.models import Declaration
    from app.screening import demo
    from app.security.models import User

    result = runner.invoke(args=["demo", "load", "--small"])
    assert result.exit_code == 0, result.output
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "DEMO-SANCTIONS-1"))
    assert decl.channel == "red"
    [match] = decl.assessment["screening"]["matches"]
    assert match["entry_id"] == "demo-stroytech"
    desk = db.session.scalar(select(User).where(User.username == demo.DESK_USER[0]))
    alert = db.session.scalar(select(Alert).where(Alert.subject_id == decl.id))
    assert desk.id in {r.user_id for r in alert.recipients}


def test_a_restricted_registry_entity_is_not_screened_into_a_declaration(db, listed, make):
    """Seam rule: the party fallback reads only code-P entities, so a code-C entity's name
    never reaches a declaration's assessment or hits."""
    from app.intel import service as intel

    unit = make.unit()
    officer = make.actor(make.user(roles=["intelligence_officer"], unit=unit))
    intel.create_entity(
        "organisation",
        "Acme Dual-Use Trading F.Z.E.",
        actor=officer,
        identifiers={"trader_code": "IMP-SECRET"},
        handling_code="C",
        unit_id=unit.id,
    )
    db.session.commit()
    on_list_profile()
    decl = submit(body(importer="IMP-SECRET"))
    assert decl.channel == "green"
    assert decl.assessment["screening"] == {"parties": 0, "matches": [], "more": 0, "cleared": []}
    assert "Acme" not in str(decl.assessment)


def test_a_party_keeps_its_five_best_matches(db):
    """A common name on a big list has many namesakes above the threshold: the best five are
    kept (hits to judge), the rest counted."""
    namesakes = [company(f"NK-acme-{n}", "Acme Dual Use Trading FZE") for n in range(7)]
    load_ftm(namesakes, name=LIST)
    no_random()
    db.session.commit()
    on_list_profile()
    decl = submit(body(parties=[importer("Acme Dual Use Trading FZE")]))
    screening = decl.assessment["screening"]
    assert len(screening["matches"]) == 5 and screening["more"] == 2
    assert len(hits_of(db, decl)) == 5
    assert decl.channel == "red"


def test_a_batch_is_flagged_and_the_worker_writes_each_ones_hits_under_it(db, listed):
    """A request writes no hit row: a declaration with a match carries
    ``screening_pending``, and the worker's run writes each one's hits under it (the
    matches are in the stored assessment) and clears the flag; a second run writes
    nothing twice. Declarations stored first and assessed after (``bulk.assess_stored``,
    the demo) have theirs written in their own transaction. A submission rolled back
    leaves nothing pending and no hit."""
    from app.risk.assessment import submit_declarations
    from app.risk.bulk import assess_stored, load_declarations, store_declarations
    from app.risk.intake import parse_declaration
    from app.risk.models import Declaration
    from app.risk.service import owning_unit_id

    def hit_count():
        return db.session.scalar(select(func.count()).select_from(ScreeningHit))

    on_list_profile()
    system = Actor.system("test")
    decls = submit_declarations(
        [
            body("B-1", parties=[importer("Stroytekhimport LLC")]),
            body("B-2", parties=[importer("Northwind Traders Ltd")]),
            body("B-3", parties=[importer("Acme Dual Use Trading FZE")]),
        ],
        actor=system,
        link_entities=False,
    )
    assert [d.screening_pending for d in decls] == [True, False, True]
    assert hit_count() == 0
    record_hits()
    got = {d.number: [h.entry_id for h in hits_of(db, d)] for d in decls}
    assert got == {"B-1": ["NK-stroy"], "B-2": [], "B-3": ["NK-acme"]}
    for decl in decls:
        [match] = decl.assessment["screening"]["matches"] or [None]
        hits = hits_of(db, decl)
        assert [(h.entry_id, h.score, h.reasons) for h in hits] == (
            [(match["entry_id"], match["score"], match["reasons"])] if match else []
        )
        # when it was screened, not when the worker wrote it
        assert all(h.created_dt == decl.assessed_dt for h in hits)
    pending = select(func.count()).select_from(Declaration).where(Declaration.screening_pending)
    assert db.session.scalar(pending) == 0
    record_hits()
    assert hit_count() == 2

    ids = store_declarations(
        [parse_declaration(body("S-1", parties=[importer("Stroytekhimport LLC")]))],
        actor=system,
        unit_id=owning_unit_id(system),
        source="api",
    )
    [stored] = load_declarations(ids)
    assess_stored([stored], actor=system)
    assert [(h.entry_id, h.role) for h in hits_of(db, stored)] == [("NK-stroy", "importer")]
    db.session.commit()

    submit_declarations([body("B-4", parties=[importer("Stroytekhimport LLC")])], actor=system)
    assert db.session.scalar(pending) == 1
    db.session.rollback()
    record_hits()
    assert db.session.scalar(pending) == 0
    assert hit_count() == 3
