"""The feed fetcher against a local HTTP server: conditional GET, back-off, size cap,
timeout, the address guard (also on redirects), Retry-After/TTL and disabling."""

import gzip
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core.time import now_utc
from app.textmining import feeds, fetcher
from app.textmining.models import FeedFetch
from app.textmining.tasks import poll_due_feeds
from tests.textmining import factories

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>
<item><title>Cocaine in a container</title><guid>urn:local:1</guid>
<description>Customs seized 10 kg of cocaine in a container.</description></item>
</channel></rss>"""


class Handler(BaseHTTPRequestHandler):
    routes: dict = {}
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        Handler.seen.append((self.path, dict(self.headers)))
        route = Handler.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        route(self)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _routes():
    Handler.routes, Handler.seen = {}, []


def _feed_route(handler, etag='"v1"'):
    if handler.headers.get("If-None-Match") == etag:
        handler.send_response(304)
        handler.send_header("ETag", etag)
        handler.end_headers()
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("ETag", etag)
    handler.send_header("Last-Modified", "Tue, 06 Jan 2026 08:00:00 GMT")
    handler.send_header("Content-Length", str(len(FEED)))
    handler.end_headers()
    handler.wfile.write(FEED)


ALLOW = ["127.0.0.1"]


def test_loopback_is_refused_unless_allowed(server):
    Handler.routes["/feed"] = _feed_route
    with pytest.raises(fetcher.BlockedAddress, match="non-public address 127.0.0.1"):
        fetcher.fetch(server + "/feed")
    assert Handler.seen == []  # refused before connecting
    assert fetcher.fetch(server + "/feed", allowed_hosts=ALLOW).status == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/feed",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://localhost/",
        "ftp://example.org/feed",
        "file:///etc/passwd",
        "gopher://x/",
    ],
)
def test_guard_refuses_non_public_targets(url):
    with pytest.raises(fetcher.BlockedAddress):
        fetcher.fetch(url, timeout=2)


def test_redirect_to_a_private_address_is_refused(server):
    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", "http://localhost:9/internal")
        handler.end_headers()

    Handler.routes["/moved"] = redirect
    with pytest.raises(fetcher.BlockedAddress, match="localhost resolves to the non-public"):
        fetcher.fetch(server + "/moved", allowed_hosts=ALLOW)

    def redirect_scheme(handler):
        handler.send_response(301)
        handler.send_header("Location", "file:///etc/passwd")
        handler.end_headers()

    Handler.routes["/moved2"] = redirect_scheme
    with pytest.raises(fetcher.BlockedAddress, match="scheme 'file'"):
        fetcher.fetch(server + "/moved2", allowed_hosts=ALLOW)


def test_redirects_within_allowed_hosts_are_followed(server):
    def redirect(handler):
        handler.send_response(301)
        handler.send_header("Location", "/feed")
        handler.end_headers()

    Handler.routes["/old"] = redirect
    Handler.routes["/feed"] = _feed_route
    result = fetcher.fetch(server + "/old", allowed_hosts=ALLOW)
    assert result.url == server + "/feed" and result.body == FEED


def test_size_cap_counts_decompressed_bytes(server):
    bomb = gzip.compress(b"<rss>" + b" " * (3 * 1024 * 1024) + b"</rss>")
    assert len(bomb) < 10_000

    def gz(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    Handler.routes["/bomb"] = gz
    with pytest.raises(fetcher.FetchError, match="larger than 1048576 bytes"):
        fetcher.fetch(server + "/bomb", allowed_hosts=ALLOW, max_bytes=1024 * 1024)
    # the same document under the cap is decompressed normally
    ok = fetcher.fetch(server + "/bomb", allowed_hosts=ALLOW, max_bytes=4 * 1024 * 1024)
    assert ok.body.startswith(b"<rss>") and len(ok.body) > 3 * 1024 * 1024


def test_plain_body_over_the_cap(server):
    def big(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"x" * 200_000)

    Handler.routes["/big"] = big
    with pytest.raises(fetcher.FetchError, match="larger than 100000 bytes"):
        fetcher.fetch(server + "/big", allowed_hosts=ALLOW, max_bytes=100_000)


def test_timeout_covers_a_slow_drip(server):
    def drip(handler):
        handler.send_response(200)
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.1)

    Handler.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(fetcher.FetchError, match="timed out"):
        fetcher.fetch(server + "/drip", allowed_hosts=ALLOW, timeout=1.0)
    assert time.monotonic() - started < 3


def test_timeout_on_a_silent_server(server):
    Handler.routes["/silent"] = lambda handler: time.sleep(3)
    started = time.monotonic()
    with pytest.raises(fetcher.FetchError, match="timed out"):
        fetcher.fetch(server + "/silent", allowed_hosts=ALLOW, timeout=0.8)
    assert time.monotonic() - started < 2.5


def _poll(feed):
    attempt = feeds.fetch_feed(feed.url, feed.etag, feed.last_modified, feeds.allowed_hosts())
    return feeds.apply_fetch(feed, attempt)


def test_conditional_get_and_adaptive_interval(server, app, db):
    app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = ALLOW
    try:
        Handler.routes["/feed"] = _feed_route
        feed = factories.feed(url=server + "/feed", interval_minutes=60)
        first = _poll(feed)
        assert (first.outcome, first.http_status, first.new_articles) == ("ok", 200, 1)
        assert feed.etag == '"v1"' and feed.last_modified.startswith("Tue, 06 Jan 2026")
        assert feed.interval_minutes == 30  # new articles: poll more often
        second = _poll(feed)
        assert (second.outcome, second.http_status, second.new_articles) == ("not_modified", 304, 0)
        assert Handler.seen[-1][1].get("If-None-Match") == '"v1"'
        assert Handler.seen[-1][1].get("If-Modified-Since", "").startswith("Tue, 06 Jan")
        assert feed.interval_minutes == 45  # quiet: poll less often
        assert feed.next_poll_dt - now_utc() > timedelta(minutes=44)
    finally:
        app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = []


def test_admin_allow_list_lets_a_host_through(server, db, make):
    from app.security.access import Actor

    Handler.routes["/feed"] = _feed_route
    feed = factories.feed(url=server + "/feed")
    assert _poll(feed).outcome == "error"
    assert feed.status == "disabled" and "non-public address" in feed.disabled_reason
    feeds.add_allowed_host("127.0.0.1", "test mirror", actor=Actor.system())
    feeds.set_feed_active(feed, True, actor=Actor.system())
    assert _poll(feed).outcome == "ok" and feed.status == "active"


def test_back_off_and_retry_after(server, app, db):
    app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = ALLOW
    try:

        def unavailable(handler):
            handler.send_response(503)
            handler.send_header("Retry-After", "7200")
            handler.end_headers()

        def failing(handler):
            handler.send_response(500)
            handler.end_headers()

        Handler.routes["/down"] = failing
        feed = factories.feed(url=server + "/down", interval_minutes=10)
        waits = []
        for _ in range(3):
            log = _poll(feed)
            assert log.outcome == "error" and log.http_status == 500
            waits.append(round((feed.next_poll_dt - now_utc()).total_seconds() / 60))
        assert waits == [20, 40, 80]  # exponential back-off
        assert feed.error_count == 3 and feed.status == "active"
        Handler.routes["/down"] = unavailable
        _poll(feed)
        assert feed.next_poll_dt - now_utc() > timedelta(minutes=119)  # Retry-After wins
    finally:
        app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = []


def test_ttl_and_max_age_stretch_the_next_poll(server, app, db):
    app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = ALLOW
    body = FEED.replace(b"<title>Local</title>", b"<title>Local</title><ttl>600</ttl>")

    def with_ttl(handler):
        handler.send_response(200)
        handler.send_header("Cache-Control", "max-age=60")
        handler.end_headers()
        handler.wfile.write(body)

    try:
        Handler.routes["/ttl"] = with_ttl
        feed = factories.feed(url=server + "/ttl", interval_minutes=10)
        _poll(feed)
        assert feed.next_poll_dt - now_utc() > timedelta(minutes=599)
    finally:
        app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = []


def test_repeated_parse_failures_disable_the_feed(server, app, db):
    app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = ALLOW

    def garbage(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"<html><body>We moved our news page</body></html>")

    try:
        Handler.routes["/garbage"] = garbage
        feed = factories.feed(url=server + "/garbage")
        for n in range(feeds.PARSE_FAILURE_LIMIT):
            assert feed.status == "active", f"disabled after {n} failures"
            assert _poll(feed).outcome == "rejected"
        assert feed.status == "disabled"
        assert "5 consecutive documents that could not be parsed" in feed.disabled_reason
        assert "not a usable feed" in feed.disabled_reason
    finally:
        app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = []


def test_poll_job_polls_due_feeds_and_survives_errors(server, app, db, runner):
    app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = ALLOW
    try:
        Handler.routes["/feed"] = _feed_route
        good = factories.feed(url=server + "/feed", next_poll_dt=now_utc())
        bad = factories.feed(url=server + "/missing", next_poll_dt=now_utc())
        later = factories.feed(
            url=server + "/feed?later", next_poll_dt=now_utc() + timedelta(hours=1)
        )
        paused = factories.feed(url=server + "/feed?paused", is_active=False)
        db.session.commit()
        result = runner.invoke(args=["feeds", "poll", "--once"])
        assert result.exit_code == 0, result.output
        assert "polled: 2, new: 1, errors: 1" in result.output
        logs = {f.feed_id: f for f in db.session.query(FeedFetch)}
        assert logs[good.id].outcome == "ok" and logs[bad.id].http_status == 404
        assert later.id not in logs and paused.id not in logs
        assert poll_due_feeds() == {
            "polled": 0,
            "new": 0,
            "errors": 0,
            "not_modified": 0,
            "rejected": 0,
        }
    finally:
        app.config["TOLLGATE_FEED_ALLOWED_HOSTS"] = []
