"""Feeds and the outbound guard (issue 16, item 7): private and metadata feed addresses are
refused when saved, not at the first poll; a feed whose host gives no answer poll after poll
is disabled with its reason, and that is logged once."""

import logging

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.security.access import Actor
from app.textmining import feeds
from app.textmining.models import Feed
from tests.alerts.conftest import free_port
from tests.fake_dns import fake_dns
from tests.textmining import factories

SYSTEM = Actor.system()


@pytest.fixture
def dns(monkeypatch):
    return fake_dns(
        monkeypatch, {"news.example": "93.184.215.14", "mirror.example": "192.168.10.5"}
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/rss",
        "http://10.0.0.8/rss",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://localhost/rss",
        "http://mirror.example/rss",
    ],
)
def test_private_and_metadata_feed_addresses_are_refused_on_save(db, dns, url):
    with pytest.raises(ValidationError) as err:
        feeds.create_feed(url, "Internal", actor=SYSTEM)
    assert set(err.value.fields) == {"url"} and "is not allowed" in err.value.fields["url"]
    assert db.session.scalar(select(Feed.id)) is None


def test_the_feed_form_refuses_a_metadata_address(client, login_as, db, dns):
    login_as("administrator")
    resp = client.post(
        "/news/feeds/new",
        data={"title": "Metadata", "url": "http://169.254.169.254/latest/meta-data/"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "cloud metadata" in html
    assert "polls it within a minute" not in html
    assert db.session.scalar(select(Feed.id)) is None


def test_editing_a_feed_to_a_private_address_is_refused(db, dns):
    feed = feeds.create_feed("https://news.example/rss", "Wire", actor=SYSTEM)
    with pytest.raises(ValidationError, match="private"):
        feeds.update_feed(feed, title="Wire", keywords=[], url="http://10.9.9.9/rss", actor=SYSTEM)
    assert feed.url == "https://news.example/rss"


def test_allowed_hosts_may_be_saved(db, dns, app, monkeypatch):
    feeds.add_allowed_host("mirror.example", "intranet mirror", actor=SYSTEM)
    assert feeds.create_feed("http://mirror.example/rss", "Mirror", actor=SYSTEM).id
    monkeypatch.setitem(app.config, "TOLLGATE_OUTBOUND_ALLOW", ["10.0.0.0/8"])
    assert feeds.create_feed("http://10.0.0.8/rss", "Intranet", actor=SYSTEM).id


def _poll(feed):
    attempt = feeds.fetch_feed(feed.url, feed.etag, feed.last_modified, feeds.allowed_hosts())
    return feeds.apply_fetch(feed, attempt)


def test_a_feed_whose_host_never_answers_is_disabled_after_n_polls(db, app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "TOLLGATE_FEED_ALLOWED_HOSTS", ["127.0.0.1"])
    monkeypatch.setitem(app.config, "TOLLGATE_FEED_MAX_NETWORK_FAILURES", 3)
    caplog.set_level(logging.DEBUG, logger="tollgate.textmining.feeds")
    feed = factories.feed(url=f"http://127.0.0.1:{free_port()}/rss")  # nothing listens
    for n in range(2):
        log = _poll(feed)
        assert log.outcome == "error" and "connection failed" in log.message
        assert feed.status == "active" and feed.network_failures == n + 1
    _poll(feed)
    assert feed.status == "disabled" and not feed.is_active
    assert feed.disabled_reason.startswith("disabled after 3 polls in a row without an answer")
    assert "Connection refused" in feed.disabled_reason
    assert feed.id not in feeds.due_feed_ids()
    disabled = [r for r in caplog.records if "disabled" in r.getMessage()]
    assert len(disabled) == 1 and disabled[0].levelname == "WARNING"
    # Resuming clears the count: the administrator gets the full number of polls again.
    feeds.set_feed_active(feed, True, actor=SYSTEM)
    assert feed.status == "active" and feed.network_failures == 0


def test_answered_errors_do_not_count_as_a_dead_host(db, app, monkeypatch):
    from app.textmining import fetcher

    monkeypatch.setitem(app.config, "TOLLGATE_FEED_MAX_NETWORK_FAILURES", 2)
    feed = factories.feed()
    dead = fetcher.FetchError("connection failed: refused", network=True)
    answered = fetcher.FetchError("HTTP 503 Service Unavailable", status=503)
    for error in (dead, answered, dead, answered, answered):
        feeds.apply_fetch(feed, feeds.FetchAttempt(error=error))
        assert feed.status == "active", error.reason
    assert feed.error_count == 5 and feed.network_failures == 0
    feeds.apply_fetch(feed, feeds.FetchAttempt(error=dead))
    feeds.apply_fetch(feed, feeds.FetchAttempt(error=dead))
    assert feed.status == "disabled"
