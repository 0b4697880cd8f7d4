"""The retention administrator page: queue, decisions, settings; decisions through the form."""

from datetime import timedelta

from sqlalchemy import select

from app.core.time import now_utc
from app.ops.models import ReviewItem
from app.security.trail import AccessEvent


def _queued(db, summary="1 access-trail rows older than 365 days"):
    item = ReviewItem(
        record_type="access_event",
        record_id="seq<=1",
        due_dt=now_utc() - timedelta(days=2),
        summary=summary,
    )
    db.session.add(item)
    db.session.commit()
    return item


def test_page_shows_queue_decisions_and_settings(client, db, login_as):
    _queued(db)
    login_as("administrator")
    page = client.get("/admin/retention/").get_data(as_text=True)
    assert "1 access-trail rows older than 365 days" in page
    assert "at least <strong>365 days</strong>" in page
    assert "Access trail" in page and "CJIS" in page
    row = db.session.scalar(select(AccessEvent).where(AccessEvent.action == "search"))
    assert row.record_type == "retention_review"


def test_keep_decision_through_the_form(client, db, login_as):
    item = _queued(db)
    user = login_as("administrator")
    resp = client.post(
        f"/admin/retention/{item.id}/decide",
        data={"decision": "keep", "next_review": "2099-06-30", "reason": "archive pending"},
    )
    assert resp.status_code == 302
    db.session.refresh(item)
    assert (item.status, item.decided_by) == ("kept", user.username)
    assert item.next_review_dt.date().isoformat() == "2099-06-30"
    row = db.session.scalar(
        select(AccessEvent).where(AccessEvent.action == "update", AccessEvent.record_id == "seq<=1")
    )
    assert "archive pending" in row.details
    page = client.get("/admin/retention/").get_data(as_text=True)
    assert "archive pending" in page and "Nothing is waiting for review." in page


def test_refused_decision_is_explained_and_changes_nothing(client, db, login_as):
    item = _queued(db)
    login_as("administrator")
    resp = client.post(
        f"/admin/retention/{item.id}/decide",
        data={"decision": "delete", "reason": "free the disk"},
        follow_redirects=True,
    )
    assert "delete is not allowed" in resp.get_data(as_text=True)
    db.session.refresh(item)
    assert item.is_pending
    missing_reason = client.post(
        f"/admin/retention/{item.id}/decide", data={"decision": "keep"}, follow_redirects=True
    )
    assert "Decision not recorded" in missing_reason.get_data(as_text=True)
