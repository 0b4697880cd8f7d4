"""Record shares for real (issue 15 item 3): who may share, what a share grants and until
when, revocation, expiry, the trail, and the list filters for users and API clients."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.cases.queries import case_visible
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db as _db
from app.intel import reports
from app.intel.models import Entity, IntelReport
from app.security import shares
from app.security.access import AccessDenied, Actor, NotFound, can_see, visible_clause
from app.security.models import RecordShare
from app.security.trail import AccessEvent
from tests.cases.factories import seizure
from tests.intel.factories import entity


def _until(days=30):
    return (date.today() + timedelta(days=days)).isoformat()


def _report(actor, title="Smuggling route via the northern crossing", **kw):
    kw.setdefault("handling_code", "C")
    kw.setdefault("handling_conditions", "Not to be passed to third countries")
    return reports.create_report(title, "Source says ...", "1", "A", actor=actor, **kw)


def _client(unit, permissions=("case.view", "entity.view", "intel.view")):
    return Actor(
        user_id=None,
        username="api:partner",
        unit_id=unit.id,
        roles=("api_client",),
        permissions=frozenset(permissions),
        api_client_id=1,
    )


@pytest.fixture
def world(make, db):
    unit_a, unit_b, unit_c = make.unit(code="SH-A"), make.unit(code="SH-B"), make.unit(code="SH-C")
    owner = make.user(roles=["intelligence_officer"], unit=unit_a)
    reader_b = make.user(roles=["intelligence_officer"], unit=unit_b)
    reader_c = make.user(roles=["intelligence_officer"], unit=unit_c)
    other_c = make.user(roles=["intelligence_officer"], unit=unit_c)
    w = {
        "units": (unit_a, unit_b, unit_c),
        "owner": make.actor(owner),
        "reader_b": make.actor(reader_b),
        "reader_c": make.actor(reader_c),
        "other_c": make.actor(other_c),
        "reader_c_user": reader_c,
    }
    w["report"] = _report(w["owner"])
    db.session.commit()
    return w


def _trail(record_type, record_id):
    return list(
        _db.session.scalars(
            select(AccessEvent)
            .where(AccessEvent.record_type == record_type, AccessEvent.record_id == str(record_id))
            .order_by(AccessEvent.id)
        )
    )


def _listed(actor, model, record_id):
    return record_id in set(
        _db.session.scalars(select(model.id).where(visible_clause(actor, model)))
    )


def test_share_opens_the_record_to_the_unit_until_revoked(world):
    owner, reader = world["owner"], world["reader_b"]
    report = world["report"]
    unit_b = world["units"][1]
    with pytest.raises(NotFound):
        reports.get_report(report.id, actor=reader)

    share = shares.create_share(
        "report",
        report.id,
        actor=owner,
        reason="Joint operation NORTH",
        expires=_until(),
        unit_id=unit_b.id,
    )
    _db.session.commit()
    assert share.conditions == "Not to be passed to third countries"
    assert share.created_by == owner.username and shares.status(share) == "active"

    # Every member of unit B and unit B's API clients see it, on the page and in lists.
    assert reports.get_report(report.id, actor=reader).id == report.id
    assert _listed(reader, IntelReport, report.id)
    assert _listed(_client(unit_b), IntelReport, report.id)
    assert can_see(_client(unit_b), report)
    assert not _listed(world["reader_c"], IntelReport, report.id)

    shares.revoke_share(share.id, actor=owner, reason="Operation over")
    _db.session.commit()
    with pytest.raises(NotFound):
        reports.get_report(report.id, actor=reader)
    assert not _listed(reader, IntelReport, report.id)
    assert not _listed(_client(unit_b), IntelReport, report.id)
    assert not can_see(_client(unit_b), report)

    # Soft revocation: the row stays, saying who ended it and why.
    row = _db.session.get(RecordShare, share.id)
    assert row.revoked_dt is not None and row.revoked_by == owner.username
    assert row.revoke_reason == "Operation over" and shares.status(row) == "revoked"


def test_trail_holds_share_use_revocation_and_denial(world):
    owner, reader = world["owner"], world["reader_b"]
    report = world["report"]
    share = shares.create_share(
        "report",
        report.id,
        actor=owner,
        reason="Joint operation NORTH",
        expires=_until(),
        unit_id=world["units"][1].id,
    )
    reports.get_report(report.id, actor=reader)
    shares.revoke_share(share.id, actor=owner)
    with pytest.raises(NotFound):
        reports.get_report(report.id, actor=reader)
    _db.session.commit()

    rows = [r for r in _trail("report", report.id) if r.action != "create"]
    steps = [(r.username, r.action, r.outcome) for r in rows]
    assert steps == [
        (owner.username, "disclose", "allowed"),
        (reader.username, "view", "allowed"),
        (owner.username, "update", "allowed"),
        (reader.username, "view", "denied"),
    ]
    disclose, use, revoke, _ = rows
    assert disclose.justification == "Joint operation NORTH"
    assert json.loads(disclose.details)["share_id"] == share.id
    assert json.loads(disclose.details)["unit"] == "SH-B"
    assert use.justification == "Joint operation NORTH"
    assert json.loads(use.details) == {"via_share": share.id}
    # No reason given for the revocation: the share's own reason justifies it.
    assert revoke.justification == "Joint operation NORTH"
    assert json.loads(revoke.details) == {"share_id": share.id, "share": "revoked"}


def test_the_owning_unit_opens_its_record_without_a_share_note(world):
    reports.get_report(world["report"].id, actor=world["owner"])
    view = [r for r in _trail("report", world["report"].id) if r.action == "view"]
    assert len(view) == 1 and view[0].details is None and view[0].justification is None


def test_expired_share_grants_nothing_and_its_end_is_trailed_once(world, make):
    owner, reader = world["owner"], world["reader_b"]
    unit_b = world["units"][1]
    case = seizure(owner, title="Heroin in a spare tyre", handling_code="C")
    ent = entity(owner, "Covert Source Ltd", handling_code="C")
    made = [
        shares.create_share(
            kind, record.id, actor=owner, reason="Ops", expires=_until(1), unit_id=unit_b.id
        )
        for kind, record in (("case", case), ("entity", ent), ("report", world["report"]))
    ]
    _db.session.commit()
    assert _listed(reader, Case, case.id) and _listed(reader, Entity, ent.id)
    assert case.id in set(_db.session.scalars(select(Case.id).where(case_visible(reader))))

    # The end has passed (as if the clock had moved on): nothing is granted any more.
    for share in made:
        share.expires_dt = now_utc() - timedelta(seconds=1)
    _db.session.commit()
    client_b = _client(unit_b)
    for who in (reader, client_b):
        assert not _listed(who, Case, case.id)
        assert not _listed(who, Entity, ent.id)
        assert not _listed(who, IntelReport, world["report"].id)
        assert case.id not in set(_db.session.scalars(select(Case.id).where(case_visible(who))))
        assert not can_see(who, case) and not can_see(who, ent)
    with pytest.raises(NotFound):
        reports.get_report(world["report"].id, actor=reader)
    assert shares.status(made[0]) == "expired"

    assert shares.record_expiries() == 3
    _db.session.commit()
    assert shares.record_expiries() == 0
    expired = [r for r in _trail("case", case.id) if r.action == "update"]
    assert len(expired) == 1
    assert expired[0].username == "share-expiry" and expired[0].justification == "Ops"
    assert json.loads(expired[0].details)["share"] == "expired"
    with pytest.raises(ValidationError) as exc:
        shares.revoke_share(made[0].id, actor=owner)
    assert "already expired" in str(exc.value.fields)


def test_user_share_names_only_that_user(world):
    owner, named, colleague = world["owner"], world["reader_c"], world["other_c"]
    report = world["report"]
    shares.create_share(
        "report",
        report.id,
        actor=owner,
        reason="Liaison officer",
        expires=_until(),
        user_id=world["reader_c_user"].id,
    )
    _db.session.commit()
    assert can_see(named, report) and _listed(named, IntelReport, report.id)
    assert not can_see(colleague, report) and not _listed(colleague, IntelReport, report.id)
    client_c = _client(world["units"][2])
    assert not can_see(client_c, report) and not _listed(client_c, IntelReport, report.id)


def test_who_may_share(world, make):
    owner, reader = world["owner"], world["reader_b"]
    report = world["report"]
    unit_a, unit_b, unit_c = world["units"]
    args = {"reason": "Ops", "expires": _until()}

    # No permission: an enforcement officer of the owning unit.
    enforcer = make.actor(make.user(roles=["enforcement_officer"], unit=unit_a))
    with pytest.raises(AccessDenied) as exc:
        shares.create_share("report", report.id, actor=enforcer, unit_id=unit_b.id, **args)
    assert exc.value.status == 403

    # Outside need-to-know: as if the record did not exist.
    with pytest.raises(NotFound):
        shares.create_share("report", report.id, actor=reader, unit_id=unit_c.id, **args)

    # A recipient may not pass the record on (originator control).
    shares.create_share("report", report.id, actor=owner, unit_id=unit_b.id, **args)
    with pytest.raises(AccessDenied) as exc:
        shares.create_share("report", report.id, actor=reader, unit_id=unit_c.id, **args)
    assert exc.value.status == 403

    # Code P records are not shared: they are open already.
    public = _report(owner, title="Open report", handling_code="P")
    with pytest.raises(ValidationError) as exc:
        shares.create_share("report", public.id, actor=owner, unit_id=unit_b.id, **args)
    assert "record" in exc.value.fields


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"expires": None}, "expires_dt"),
        ({"expires": "2020-01-01"}, "expires_dt"),
        ({"expires": (date.today() + timedelta(days=400)).isoformat()}, "expires_dt"),
        ({"expires": "2027-01-31T18:00:00"}, "expires_dt"),  # no offset: not guessed
        ({"expires": "31/01/2027"}, "expires_dt"),
        ({"unit_id": None}, "recipient"),
        ({"user_id": 1}, "recipient"),  # both a unit and a user
        ({"unit_id": 999_999}, "unit_id"),
        ({"unit_id": "own"}, "unit_id"),
    ],
)
def test_share_input_is_checked(world, changes, field):
    args = {"reason": "Ops", "expires": _until(), "unit_id": world["units"][1].id}
    args.update(changes)
    if args["unit_id"] == "own":
        args["unit_id"] = world["units"][0].id
    with pytest.raises(ValidationError) as exc:
        shares.create_share("report", world["report"].id, actor=world["owner"], **args)
    assert field in exc.value.fields, exc.value.fields


def test_expiry_with_offset_is_stored_in_utc(world):
    share = shares.create_share(
        "report",
        world["report"].id,
        actor=world["owner"],
        reason="Ops",
        expires=f"{_until()}T18:00:00+02:00",
        unit_id=world["units"][1].id,
    )
    assert share.expires_dt.isoformat() == f"{_until()}T16:00:00+00:00"


def test_one_current_share_per_recipient_and_sharing_again_adds_history(world):
    owner, unit_b = world["owner"], world["units"][1]
    args = {"reason": "Ops", "expires": _until(), "unit_id": unit_b.id}
    first = shares.create_share("report", world["report"].id, actor=owner, **args)
    with pytest.raises(ValidationError) as exc:
        shares.create_share("report", world["report"].id, actor=owner, **args)
    assert "unit_id" in exc.value.fields
    shares.revoke_share(first.id, actor=owner)
    second = shares.create_share("report", world["report"].id, actor=owner, **args)
    _db.session.commit()
    assert second.id != first.id
    history = shares.shares_of(world["report"], actor=owner)
    assert [(s.id, shares.status(s)) for s in history] == [
        (second.id, "active"),
        (first.id, "revoked"),
    ]


def test_a_recipient_sees_only_the_shares_that_name_it(world):
    owner, report = world["owner"], world["report"]
    unit_b, unit_c = world["units"][1], world["units"][2]
    to_b = shares.create_share(
        "report", report.id, actor=owner, reason="B", expires=_until(), unit_id=unit_b.id
    )
    to_c = shares.create_share(
        "report", report.id, actor=owner, reason="C", expires=_until(), unit_id=unit_c.id
    )
    _db.session.commit()
    assert [s.id for s in shares.shares_of(report, actor=world["reader_b"])] == [to_b.id]
    with pytest.raises(NotFound):
        shares.get_share(to_c.id, actor=world["reader_b"])
    # ... and may not revoke even its own.
    with pytest.raises(AccessDenied) as exc:
        shares.revoke_share(to_b.id, actor=world["reader_b"])
    assert exc.value.status == 403


def test_dissemination_to_a_unit_shares_the_report(world):
    owner, reader, unit_b = world["owner"], world["reader_b"], world["units"][1]
    report = world["report"]
    with pytest.raises(ValidationError) as exc:
        reports.disseminate(
            report.id, "", "Joint op", actor=owner, unit_id=unit_b.id, until=_until()
        )
    assert "version" in exc.value.fields  # a unit receives the full report
    row = reports.disseminate(
        report.id,
        "",
        "Joint op",
        actor=owner,
        sanitised=False,
        unit_id=unit_b.id,
        until=date.today() + timedelta(days=10),
    )
    _db.session.commit()
    assert row.recipient.startswith("SH-B") and not row.is_sanitised
    # "Disseminated to unit B" really lets unit B open it.
    assert reports.get_report(report.id, actor=reader).id == report.id
    (share,) = shares.shares_of(report, actor=owner)
    assert share.unit_id == unit_b.id and share.reason == "Joint op"
    disclose = [r for r in _trail("report", report.id) if r.action == "disclose"]
    assert len(disclose) == 1
    details = json.loads(disclose[0].details)
    assert details["share_id"] == share.id and details["dissemination_id"] == row.id


def test_dissemination_outside_the_system_shares_nothing(world):
    report = world["report"]
    reports.disseminate(
        report.id, "Partner agency X", "Joint op", actor=world["owner"], sanitised=False
    )
    _db.session.commit()
    assert shares.shares_of(report, actor=world["owner"]) == []
    with pytest.raises(NotFound):
        reports.get_report(report.id, actor=world["reader_b"])


def test_the_worker_notes_expiries(app, world):
    from app.jobs.registry import registered_jobs

    job = {j.id: j for j in registered_jobs(app)}["share-expiry"]
    share = shares.create_share(
        "report",
        world["report"].id,
        actor=world["owner"],
        reason="Short loan",
        expires=_until(1),
        unit_id=world["units"][1].id,
    )
    share.expires_dt = now_utc() - timedelta(minutes=1)
    _db.session.commit()
    job.func()
    _db.session.rollback()
    assert _db.session.get(RecordShare, share.id).expiry_logged_dt is not None
    rows = [r for r in _trail("report", world["report"].id) if r.username == "share-expiry"]
    assert len(rows) == 1 and json.loads(rows[0].details)["share_id"] == share.id
