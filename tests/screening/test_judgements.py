"""Analysts' judgements on screening hits (issue 20): a judged false positive does not fire
again until either side changes (the party's data or the list's entry); a judged true match
on a registry entity is merged into it (trailed); new registry entities are screened."""

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.core.errors import ValidationError
from app.intel import service as intel
from app.risk import engine as engine_mod
from app.screening import judgements
from app.screening.hits import ScreeningHit
from app.security.access import Actor, NotFound
from app.security.trail import AccessEvent
from tests.risk import factories as risk_factories
from tests.risk.factories import body, cond, no_random, profile, tree
from tests.screening.factories import company, load_ftm, record_hits, submit

LIST = "Test sanctions"
STROY = company("NK-stroy", "ООО Стройтехимпорт", country="ru")
ACME = company("NK-acme", "Acme Dual Use Trading FZE", country="ae")


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


@pytest.fixture
def desk(db, make):
    load_ftm([STROY, ACME], name=LIST)
    no_random()
    unit = make.unit(code="SANC", name="Sanctions desk")
    profile(
        name="Party on sanctions list",
        conditions=tree(cond("party_on_list", "on_any", [LIST])),
        channel="red",
        is_sensitive=True,
        recipients={"units": [unit.id]},
    )
    make.user(roles=["risk_analyst"], unit=unit)
    db.session.commit()
    return unit


def party(name="Stroytekhimport LLC", **kw):
    return [{"role": "importer", "name": name, "kind": "company", **kw}]


def count(db, model, *where):
    return db.session.scalar(select(func.count(model.id)).where(*where))


def test_a_judged_false_positive_does_not_fire_again_until_either_side_changes(db, desk, make):
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    first = submit(body(parties=party()))
    assert first.channel == "red"
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    judgements.judge(hit.id, "false_positive", "a different company", actor=analyst)
    db.session.commit()

    again = submit(body(parties=party()))
    assert again.channel == "green"
    assert again.assessment["screening"]["matches"] == []
    assert again.assessment["screening"]["cleared"][0]["entry_id"] == "NK-stroy"
    assert count(db, ScreeningHit) == 1, "no new hit"
    assert count(db, Alert, Alert.subject_id == again.id) == 0, "no new alert"

    # the party's side changes (a country is now given): it fires again
    changed_party = submit(body(parties=party(country="RU")))
    assert changed_party.channel == "red"
    assert count(db, ScreeningHit) == 2

    # the list's side changes (the entry gains an alias in a new version): it fires again
    load_ftm([{**STROY, "properties": {**STROY["properties"], "alias": ["Stroytech"]}}, ACME],
             name=LIST, version_date=__import__("datetime").date(2026, 12, 2))  # fmt: skip
    db.session.commit()
    changed_entry = submit(body(parties=party()))
    assert changed_entry.channel == "red"
    assert changed_entry.assessment["screening"]["cleared"] == []


def test_unsure_and_true_match_keep_firing(db, desk, make):
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    submit(body(parties=party()))
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    judgements.judge(hit.id, "unsure", actor=analyst)
    assert submit(body(parties=party())).channel == "red"
    judgements.judge(hit.id, "true_match", actor=analyst)
    assert submit(body(parties=party())).channel == "red"
    assert len(judgements.judgements_of(hit)) == 2


def test_judging_needs_the_permission_and_a_known_verdict(db, desk, make):
    submit(body(parties=party()))
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    enforcement = make.actor(make.user(roles=["enforcement_officer"]))
    with pytest.raises(Exception, match="screening.judge"):
        judgements.judge(hit.id, "false_positive", actor=enforcement)
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    with pytest.raises(ValidationError) as exc:
        judgements.judge(hit.id, "maybe", actor=analyst)
    assert "verdict" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        judgements.judge(hit.id, "false_positive", actor=analyst, merge=True)
    assert "merge" in exc.value.fields


def test_a_hit_outside_need_to_know_is_not_found(db, make):
    load_ftm([STROY], name="Confidential list", sensitivity="C")
    no_random()
    unit_a = make.unit()
    owner = make.actor(make.user(roles=["intelligence_officer"], unit=unit_a))
    entity = intel.create_entity(
        "organisation", "Stroytekhimport", actor=owner, handling_code="C", unit_id=unit_a.id
    )
    db.session.commit()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    assert (hit.subject_type, hit.subject_id, hit.handling_code) == ("entity", entity.id, "C")
    other_unit = make.actor(make.user(roles=["intelligence_officer"]))
    with pytest.raises(NotFound):
        judgements.get_hit(hit.id, actor=other_unit)
    same_unit_analyst = make.actor(make.user(roles=["risk_analyst"], unit=unit_a))
    with pytest.raises(NotFound):  # a confidential list: screening.confidential only
        judgements.get_hit(hit.id, actor=same_unit_analyst)
    assert judgements.get_hit(hit.id, actor=owner).entry_id == "NK-stroy"
    listed = db.session.scalars(judgements.hits_query(other_unit, status="all")).all()
    assert listed == []


def test_a_new_entity_is_screened_and_a_true_match_merged_into_it(db, make):
    load_ftm([STROY, ACME], name=LIST)
    db.session.commit()
    officer = make.actor(make.user(roles=["intelligence_officer"]))
    entity = intel.create_entity("organisation", "Acme Dual-Use Trading", actor=officer)
    unlisted = intel.create_entity("organisation", "Northwind Traders", actor=officer)
    db.session.commit()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    assert (hit.subject_type, hit.subject_id, hit.entry_id) == ("entity", entity.id, "NK-acme")
    assert hit.party_key == f"entity:{entity.id}"
    assert unlisted.id != entity.id
    judgement = judgements.judge(hit.id, "true_match", "same FZE", actor=officer, merge=True)
    db.session.commit()
    assert judgement.merged_entity_id == entity.id
    db.session.refresh(entity)
    [mark] = entity.attributes["screening_matches"]
    assert (mark["list"], mark["entry_id"], mark["caption"]) == (LIST, "NK-acme", hit.entry_caption)
    trailed = db.session.execute(
        select(AccessEvent.record_type, AccessEvent.record_id).where(
            AccessEvent.action == "update", AccessEvent.username == officer.username
        )
    ).all()
    assert set(trailed) == {("screening_hit", str(hit.id)), ("entity", str(entity.id))}


def test_an_entity_judged_false_positive_fires_again_when_renamed(db, make):
    load_ftm([ACME], name=LIST)
    db.session.commit()
    officer = make.actor(make.user(roles=["intelligence_officer"]))
    entity = intel.create_entity("organisation", "Acme Dual-Use Trading", actor=officer,
                                 identifiers={"trader_code": "IMP-7"})  # fmt: skip
    db.session.commit()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    judgements.judge(hit.id, "false_positive", actor=officer)
    no_random()
    profile(conditions=tree(cond("party_screening_score", "gte", 0.1)), channel="red")
    db.session.commit()
    assert submit(body(importer="IMP-7")).channel == "green"
    intel.update_entity(entity, actor=officer, name="Acme Dual Use Trading FZE")
    db.session.commit()
    assert submit(body(importer="IMP-7")).channel == "red"


def test_merging_needs_a_registry_entity(db, desk, make):
    submit(body(parties=party()))
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    analyst = make.actor(make.user(roles=["intelligence_officer"]))
    with pytest.raises(ValidationError) as exc:
        judgements.judge(hit.id, "true_match", actor=analyst, merge=True)
    assert "registry entity" in exc.value.fields["merge"]
    assert Actor  # noqa: B018


def test_entities_registered_in_bulk_are_screened_too(db, make):
    """The bulk path (demo loaders, the FtM import) registers entities with EntityBatch:
    each new entity is screened as one registered alone."""
    from app.intel.bulk import EntityBatch

    load_ftm([ACME], name=LIST)
    db.session.commit()
    batch = EntityBatch(make.actor(make.user(roles=["intelligence_officer"])))
    batch.entity("organisation", "Acme Dual-Use Trading")
    batch.entity("organisation", "Northwind Traders")
    new, _links = batch.write()
    db.session.commit()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    assert (hit.subject_type, hit.entry_id) == ("entity", "NK-acme")
    assert hit.subject_id == next(e.id for e in new if e.name.startswith("Acme"))


def test_the_judgement_look_up_is_cached_and_follows_a_new_judgement(db, desk, make, monkeypatch):
    """Screening a declaration with a match reads no judgement row while none changed (the
    look-up is in memory; one small check every CHECK_SECONDS), and a judgement recorded in
    this process is seen by the next declaration at once."""
    from sqlalchemy import event

    monkeypatch.setattr(judgements, "_check_seconds", lambda: 3600.0)
    judgements.forget_cached()
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    first = submit(body(parties=party()))
    assert first.channel == "red"
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        second = risk_factories.submit(body(parties=party()))  # the declaration's request
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert second.channel == "red"
    assert not [s for s in statements if "screening_judgement" in s], statements
    record_hits()

    [hit, _] = db.session.scalars(select(ScreeningHit).order_by(ScreeningHit.id)).all()
    judgements.judge(hit.id, "false_positive", "a different company", actor=analyst)
    db.session.commit()
    third = submit(body(parties=party()))
    assert third.channel == "green"
    assert third.assessment["screening"]["cleared"][0]["entry_id"] == "NK-stroy"
