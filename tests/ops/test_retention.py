"""Retention and review: overdue records queued, decisions recorded and applied, the access
trail kept at least a year and never edited by the application."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.jobs.registry import registered_jobs
from app.jobs.scheduler import run_job
from app.ops import retention
from app.ops.models import ReviewItem
from app.security import trail
from app.security.access import AccessDenied, Actor
from app.security.models import User
from app.security.trail import AccessEvent

APP_DIR = Path(__file__).resolve().parent.parent.parent / "app"


def _dormant_accounts():
    """A source defined here: accounts whose review date (password_changed_dt) has passed."""
    from app.extensions import db

    def overdue(now, limit):
        stmt = select(User).where(User.password_changed_dt < now).order_by(User.id).limit(limit)
        for user in db.session.scalars(stmt):
            yield retention.Overdue(str(user.id), user.password_changed_dt, "dormant account")

    def anonymise(record_id, actor):
        user = db.session.get(User, int(record_id))
        user.full_name, user.email = "(anonymised)", None
        user.password_changed_dt = None  # nothing personal left to review

    def delete(record_id, actor):
        db.session.delete(db.session.get(User, int(record_id)))

    def set_review_date(record_id, when, actor):
        db.session.get(User, int(record_id)).password_changed_dt = when

    return retention.RetentionSource(
        "test_account", "Dormant accounts", overdue, anonymise, delete, set_review_date
    )


@pytest.fixture
def source(app):
    src = _dormant_accounts()
    retention.add_retention_source(app, src)
    yield src
    del app.extensions["tollgate_retention"][src.record_type]


@pytest.fixture
def reviewer(make):
    return make.actor(make.user(roles=["administrator"]))


def _age(user, days):
    user.password_changed_dt = now_utc() - timedelta(days=days)


def _items(db, record_type="test_account"):
    return db.session.scalars(
        select(ReviewItem).where(ReviewItem.record_type == record_type).order_by(ReviewItem.id)
    ).all()


def _trail_rows(db, record_type):
    return db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type == record_type).order_by(AccessEvent.seq)
    ).all()


def test_overdue_records_are_queued_once(db, make, source):
    old, fresh = make.user(), make.user()
    _age(old, 400)
    fresh.password_changed_dt = now_utc() + timedelta(days=30)
    db.session.flush()
    assert retention.queue_overdue() >= 1
    ids = [i.record_id for i in _items(db)]
    assert str(old.id) in ids and str(fresh.id) not in ids
    assert retention.queue_overdue() == 0  # already pending: not queued twice


def test_delete_decision_is_applied_and_in_the_trail(db, make, source, reviewer):
    user = make.user()
    _age(user, 10)
    retention.queue_overdue()
    item = next(i for i in _items(db) if i.record_id == str(user.id))
    retention.decide(item, "delete", "No longer needed for any case", actor=reviewer)
    db.session.commit()
    assert db.session.get(User, int(item.record_id)) is None
    assert (item.status, item.decided_by) == ("deleted", reviewer.username)
    (row,) = _trail_rows(db, "test_account")
    assert (row.action, row.record_id) == ("delete", item.record_id)
    assert "No longer needed" in row.details and trail.verify()[0]


def test_anonymise_and_keep_decisions(db, make, source, reviewer):
    a, b = make.user(), make.user()
    _age(a, 5)
    _age(b, 5)
    retention.queue_overdue()
    items = {i.record_id: i for i in _items(db)}
    retention.decide(items[str(a.id)], "anonymise", "Retention period over", actor=reviewer)
    later = now_utc() + timedelta(days=180)
    retention.decide(
        items[str(b.id)], "keep", "Open case still needs it", actor=reviewer, next_review_dt=later
    )
    db.session.commit()
    assert (a.full_name, a.email) == ("(anonymised)", None)  # the factory gave an e-mail
    assert b.password_changed_dt == later.replace(microsecond=later.microsecond)
    assert [r.action for r in _trail_rows(db, "test_account")] == ["update", "update"]
    # Kept until its new review date: not queued again.
    assert retention.queue_overdue() == 0


@pytest.mark.parametrize(
    ("decision", "reason", "next_days", "field"),
    [
        ("keep", "still needed", None, "next_review_dt"),
        ("keep", "still needed", -1, "next_review_dt"),
        ("delete", "   ", None, "reason"),
        ("shred", "why not", None, "decision"),
    ],
)
def test_invalid_decisions_are_refused(
    db, make, source, reviewer, decision, reason, next_days, field
):
    user = make.user()
    _age(user, 3)
    retention.queue_overdue()
    (item,) = [i for i in _items(db) if i.record_id == str(user.id)]
    when = now_utc() + timedelta(days=next_days) if next_days is not None else None
    with pytest.raises(ValidationError) as err:
        retention.decide(item, decision, reason, actor=reviewer, next_review_dt=when)
    assert field in err.value.fields
    assert item.is_pending and db.session.get(User, user.id) is not None


def test_a_decision_is_taken_once_and_only_with_the_permission(db, make, source, reviewer):
    user = make.user()
    _age(user, 3)
    retention.queue_overdue()
    item = next(i for i in _items(db) if i.record_id == str(user.id))
    analyst = make.actor(make.user(roles=["supervisor"]))
    with pytest.raises(AccessDenied):
        retention.decide(item, "delete", "tidy up", actor=analyst)
    retention.decide(item, "anonymise", "done", actor=reviewer)
    with pytest.raises(ValidationError, match="already decided"):
        retention.decide(item, "delete", "again", actor=reviewer)


def _backdated_trail_row(actor, days):
    row = trail.record(actor, "view", "case", days)
    row.occurred_dt = now_utc() - timedelta(days=days)
    return row


def test_retention_job_never_removes_trail_rows_younger_than_a_year(app, db, make):
    actor = make.actor(make.user())
    for days in (500, 400, 364, 200, 1):
        _backdated_trail_row(actor, days)
    db.session.commit()
    before = db.session.scalar(select(func.count(AccessEvent.id)))
    app.config["TOLLGATE_TRAIL_RETENTION_DAYS"] = 30  # a setting below a year is ignored
    try:
        assert retention.trail_retention_days(app.config) == 365
        spec = next(s for s in registered_jobs(app) if s.id == "ops.retention-review")
        assert run_job(app, spec, now_utc()) is True
    finally:
        app.config["TOLLGATE_TRAIL_RETENTION_DAYS"] = 365
    db.session.rollback()
    assert db.session.scalar(select(func.count(AccessEvent.id))) == before
    assert trail.verify()[0]
    (item,) = _items(db, "access_event")
    assert item.summary.startswith("2 access-trail rows older than 365 days")
    admin = make.actor(make.user(roles=["administrator"]))
    for decision in ("delete", "anonymise"):
        with pytest.raises(ValidationError, match="not allowed"):
            retention.decide(item, decision, "make room", actor=admin)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AccessEvent.id))) == before


def test_trail_rows_cannot_be_edited_or_deleted_through_the_orm(db, make):
    trail.record(make.actor(make.user()), "view", "case", 1)
    db.session.commit()
    row = db.session.scalar(select(AccessEvent))
    row.username = "mallory"
    with pytest.raises(Exception, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AccessEvent)))
    with pytest.raises(Exception, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert trail.verify() == (True, 1, "chain intact: 1 rows")


_SQL_EDIT = re.compile(r"\b(UPDATE\s+access_event|DELETE\s+FROM\s+access_event|TRUNCATE)\b", re.I)


def test_no_code_path_edits_trail_rows():
    """Static check over app/: no UPDATE/DELETE of access_event, in SQL or in Core/ORM."""
    offences = []
    for path in sorted(APP_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(APP_DIR.parent)}:{getattr(node, 'lineno', '?')}"
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _SQL_EDIT.search(node.value)
            ):
                offences.append(f"{where}: SQL edits the trail")
            if isinstance(node, ast.Call):
                func_src = ast.unparse(node.func)
                args_src = " ".join(ast.unparse(a) for a in node.args)
                if func_src in ("update", "delete", "sa.update", "sa.delete") and (
                    "AccessEvent" in args_src or "access_event" in args_src
                ):
                    offences.append(f"{where}: {func_src}({args_src})")
                if "AccessEvent" in func_src and func_src.endswith((".update", ".delete")):
                    offences.append(f"{where}: {func_src}")
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    text = ast.unparse(target)
                    if re.search(r"\b(access_event|trail_row|trail_event)\.\w+$", text) and (
                        "trail.py" not in path.name
                    ):
                        offences.append(f"{where}: assigns {text}")
    assert not offences, "code that could edit the access trail:\n" + "\n".join(offences)


def test_the_system_actor_cannot_bypass_the_triggers(db, make):
    trail.record(Actor.system("retention"), "view", "case", 1)
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(AccessEvent.__table__.delete())
    db.session.rollback()
    assert db.session.scalar(select(func.count(AccessEvent.id))) == 1
