"""SIGKILL in the middle of the real jobs - a feed poll, a rating recomputation, an alert
delivery - loses nothing and duplicates nothing once the next worker finished the run.

Each drill starts two real ``tollgate worker`` processes on the test database: one takes
the leadership lock, the other waits for it as a standby (starting both at once keeps the
drill short: importing the app costs seconds of CPU). The job stops at a crash point
(app/jobs/testing.py) with part of its work flushed and not committed; the test checks that
none of that is visible, SIGKILLs the scheduler, and the standby takes over: it finishes
the interrupted run (``resume_interrupted``, attempt 2) and goes on scheduling.
"""

import json
import threading
from collections import Counter
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import delete, func, select

from app.alerts import delivery as alert_delivery
from app.alerts.models import Delivery, Webhook
from app.alerts.subjects import register_subject, unregister_subject
from app.audit import service as audit_service
from app.audit.models import TraderRating
from app.core.time import now_utc
from app.jobs.models import JobRun
from app.search.models import SearchQueueItem
from app.security.access import Actor
from app.textmining import feeds as feed_service
from app.textmining.models import Article, Feed, FeedFetch, Mention
from app.textmining.network import NetworkFilter, build_network
from app.textmining.tasks import poll_due_feeds
from tests.alerts.conftest import WEBHOOK_SECRET, SmtpSink, SpecimenStore, WebhookReceiver
from tests.alerts.factories import raise_specimen_alert
from tests.audit.factories import history_start, import_rows, kcs_row, synthetic_history
from tests.ops.workers import (
    ROOT,
    crash_knobs,
    kill,
    logs,
    start_pair,
    stop_all,
    wait_for_crash_point,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.slow

SYSTEM = Actor.system("crash-drill")


@pytest.fixture
def workers():
    """The drill's worker processes; whatever still runs is stopped after the test."""
    procs = []
    yield procs
    stop_all(procs)


def _runs(db, job_id):
    db.session.rollback()
    return db.session.scalars(
        select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.scheduled_dt)
    ).all()


def _running(db, job_id):
    return [r for r in _runs(db, job_id) if r.status == "running"]


def _finished_after_crash(db, job_id, killed_at, later_runs=0):
    """The interrupted run finished by the standby, and ``later_runs`` more triggers ran."""
    runs = _runs(db, job_id)
    resumed = next((r for r in runs if r.scheduled_dt == killed_at and r.status == "ok"), None)
    later = [r for r in runs if r.scheduled_dt > killed_at and r.status == "ok"]
    return resumed if resumed is not None and len(later) >= later_runs else None


def _check_runs(db, job_id, killed_at, procs):
    runs = _runs(db, job_id)
    assert all(r.status == "ok" for r in runs), [(r.scheduled_dt, r.status, r.error) for r in runs]
    assert len({r.scheduled_dt for r in runs}) == len(runs)
    resumed = next(r for r in runs if r.scheduled_dt == killed_at)
    assert resumed.attempts == 2, logs(procs)
    assert all(r.attempts == 1 for r in runs if r is not resumed)
    assert "was interrupted" in logs(procs)


# --- 1. feed poll ----------------------------------------------------------------------------

SEIZURES = json.loads((ROOT / "tests/textmining/data/seizure_articles.json").read_text())
FEEDS, PER_FEED = 3, 4


def _guid(feed_no, item_no):
    return f"urn:tollgate-drill:feed-{feed_no}:item-{item_no}"


#: the same document on every fetch: the re-fetched feed must give the very same articles
PUBLISHED = format_datetime(now_utc().replace(microsecond=0) - timedelta(hours=1), usegmt=True)


def _rss(feed_no) -> bytes:
    items = []
    for item_no in range(PER_FEED):
        text = SEIZURES[feed_no * PER_FEED + item_no]["text"]
        items.append(
            f"<item><title>Seizure report {feed_no}-{item_no}</title>"
            f"<link>https://news.example/{feed_no}/{item_no}</link>"
            f'<guid isPermaLink="false">{_guid(feed_no, item_no)}</guid>'
            f"<pubDate>{PUBLISHED}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Drill feed {feed_no}</title><link>https://news.example/{feed_no}</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


@pytest.fixture
def feed_server():
    """Serves /feed/0 .. /feed/2 and counts the requests each got."""
    hits = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server hook
            feed_no = int(self.path.rsplit("/", 1)[-1])
            hits[feed_no] += 1
            body = _rss(feed_no)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _news_state(db):
    """Articles by guid with what extraction made of them, and the network's edges."""
    db.session.rollback()
    articles = db.session.scalars(select(Article).order_by(Article.id)).all()
    state = {}
    for a in articles:
        mentions = [
            (m.category, m.canonical, m.start, m.end, m.sentence, m.source) for m in a.mentions
        ]
        assert len(mentions) == len(set(mentions)), f"mentions of {a.guid} stored twice"
        state[a.guid] = {
            "feed": a.feed.url,
            "url": a.url,
            "title": a.title,
            "text": a.text,
            "language": a.language,
            "keywords": a.keywords,
            "extracted": a.extracted_dt is not None and a.extractor is not None,
            "mentions": sorted(mentions),
        }
    assert len(state) == len(articles), "an article is stored twice"
    network = build_network(NetworkFilter(min_count=1, limit=100_000))
    edges = sorted((e.source, e.target, e.count) for e in network.edges)
    return state, edges


def test_sigkill_mid_feed_poll_stores_every_article_once(
    app, db, tmp_path, workers, feed_server, monkeypatch
):
    base, hits = feed_server
    # The feed server is on 127.0.0.1: saving its feeds needs it on the allow-list.
    monkeypatch.setitem(app.config, "TOLLGATE_FEED_ALLOWED_HOSTS", ["127.0.0.1"])
    feeds = []
    for feed_no in range(FEEDS):
        feed = feed_service.create_feed(
            f"{base}/feed/{feed_no}", f"Drill feed {feed_no}", keywords=["cocaine"], actor=SYSTEM
        )
        feed.next_poll_dt = now_utc() - timedelta(minutes=FEEDS - feed_no)  # polled in order
        feeds.append(feed)
    db.session.commit()
    feed_ids = [f.id for f in feeds]
    expected = {_guid(f, i) for f in range(FEEDS) for i in range(PER_FEED)}
    job = "textmining.poll_feeds"
    env = worker_env(
        app,
        tmp_path,
        TOLLGATE_WORKER_JOBS=job,
        TOLLGATE_TEST_JOB_INTERVALS=f"{job}=1",
        TOLLGATE_FEED_ALLOWED_HOSTS="127.0.0.1",
        TOLLGATE_NLP_MODEL="none",
        # The 6th article: the first feed is committed, the second has one article flushed.
        **crash_knobs(tmp_path, "textmining.article#6"),
    )
    workers += start_pair(env, tmp_path)
    stopped = wait_for_crash_point(tmp_path, workers)
    assert (stopped["feed"], stopped["guid"]) == (feed_ids[1], _guid(1, 1))

    # Frozen mid-feed: the first feed's articles are committed, nothing of the second shows.
    db.session.rollback()
    visible = set(db.session.scalars(select(Article.guid)))
    assert visible == {_guid(0, i) for i in range(PER_FEED)}
    assert set(db.session.scalars(select(FeedFetch.feed_id))) == {feed_ids[0]}
    (victim,) = _running(db, job)
    killed_at = victim.scheduled_dt

    survivors = kill(workers, stopped["pid"])
    wait_until(
        lambda: _finished_after_crash(db, job, killed_at, later_runs=1),
        timeout=90,
        what="the interrupted poll to be finished",
        procs=survivors,
    )
    stop_all(workers)
    _check_runs(db, job, killed_at, workers)

    state, edges = _news_state(db)
    assert set(state) == expected
    assert all(a["extracted"] and a["mentions"] for a in state.values())
    fetches = db.session.scalars(select(FeedFetch).order_by(FeedFetch.feed_id)).all()
    assert [(f.feed_id, f.outcome, f.new_articles) for f in fetches] == [
        (fid, "ok", PER_FEED) for fid in feed_ids
    ], "a feed was polled twice or its poll was recorded twice"
    # The interrupted feed was fetched again; the committed one was not.
    assert hits == {0: 1, 1: 2, 2: 1}
    queued = Counter(
        db.session.scalars(
            select(SearchQueueItem.record_id).where(SearchQueueItem.record_type == "article")
        )
    )
    article_ids = set(db.session.scalars(select(Article.id)))
    assert set(queued) == article_ids and set(queued.values()) == {1}

    # The same feeds polled once without a crash give exactly the same articles, mentions
    # and network: nothing half-written survived the kill.
    for model in (Mention, SearchQueueItem, Article, FeedFetch):
        db.session.execute(delete(model))
    for feed in db.session.scalars(select(Feed)):
        feed.next_poll_dt, feed.etag, feed.last_modified = now_utc(), None, None
    db.session.commit()
    overrides = {"TOLLGATE_FEED_ALLOWED_HOSTS": ["127.0.0.1"], "TOLLGATE_NLP_MODEL": "none"}
    saved = {k: app.config.get(k) for k in overrides}
    app.config.update(overrides)
    try:
        assert poll_due_feeds()["new"] == FEEDS * PER_FEED
    finally:
        app.config.update(saved)
    reference_state, reference_edges = _news_state(db)
    assert state == reference_state
    assert edges == reference_edges and edges


# --- 2. trader rating recomputation ----------------------------------------------------------


def _ratings(db):
    db.session.rollback()
    return db.session.scalars(select(TraderRating).order_by(TraderRating.id)).all()


@pytest.mark.parametrize(
    "point",
    [
        pytest.param("audit.ratings.role#1", id="killed-mid-recomputation"),
        pytest.param("jobs.finished", id="killed-after-its-commit"),
    ],
)
def test_sigkill_mid_rating_recomputation_is_all_or_nothing(app, db, tmp_path, workers, point):
    """The recomputation writes every rating in one transaction. Killed with the importers'
    ratings flushed, none of them is visible and the next worker recomputes them all. Killed
    after the job's commit, before its run was marked done, the next worker runs it again:
    it finds nothing changed and writes nothing, so no rating is stored twice."""
    import_rows(synthetic_history(n=400, seed=3))
    audit_service.compute_ratings(actor=SYSTEM)
    db.session.commit()
    baseline = {r.id for r in _ratings(db)}
    # New control results for every importer: the next recomputation changes their ratings.
    last = history_start() + timedelta(days=300)
    import_rows(
        [
            kcs_row(day=last + timedelta(days=d), importer=f"IMP-{i:03d}", fraud=d == 0)
            for i in range(40)
            for d in range(3)
        ]
    )
    db.session.commit()
    job = "audit-ratings"
    env = worker_env(
        app,
        tmp_path,
        TOLLGATE_WORKER_JOBS=job,
        TOLLGATE_TEST_JOB_INTERVALS=f"{job}=2",
        **crash_knobs(tmp_path, point),
    )
    workers += start_pair(env, tmp_path)
    stopped = wait_for_crash_point(tmp_path, workers)
    at_crash = _ratings(db)
    if point == "jobs.finished":
        assert stopped["job"] == job
        committed = {r.id for r in at_crash} - baseline
        assert committed, "the killed attempt committed its ratings before the crash point"
    else:
        # Frozen mid-run: none of the run's ratings is visible, the old ones still current.
        assert stopped["role"] == "importer" and stopped["changed"] >= 30
        assert {r.id for r in at_crash} == baseline
        assert all(r.is_current for r in at_crash)
    (victim,) = _running(db, job)
    killed_at = victim.scheduled_dt

    survivors = kill(workers, stopped["pid"])
    # One more trigger after the finished run: a rerun over unchanged history adds nothing.
    wait_until(
        lambda: _finished_after_crash(db, job, killed_at, later_runs=1),
        timeout=90,
        what="the interrupted recomputation to be finished",
        procs=survivors,
    )
    stop_all(workers)
    _check_runs(db, job, killed_at, workers)

    ratings = _ratings(db)
    current = Counter((r.role, r.trader_code) for r in ratings if r.is_current)
    assert set(current.values()) == {1}, "a trader has two current ratings"
    history = Counter((r.role, r.trader_code) for r in ratings)
    assert max(history.values()) == 2, "a trader's rating history holds a duplicate"
    new = [r for r in ratings if r.id not in baseline]
    # One attempt wrote all of them, all current, for every role.
    assert len({r.computed_dt for r in new}) == 1
    assert all(r.is_current for r in new)
    assert {r.role for r in new} >= {"importer", "declarant"}
    if point == "jobs.finished":
        assert {r.id for r in new} == committed  # the rerun wrote nothing
    else:
        # The killed attempt's rows died with it; the next attempt wrote the same set.
        assert len([r for r in new if r.role == "importer"]) == stopped["changed"]
    retired = [r for r in ratings if r.id in baseline and not r.is_current]
    assert Counter((r.role, r.trader_code) for r in retired) == Counter(
        (r.role, r.trader_code) for r in new
    )
    # The state the crash left is what a clean recomputation gives: nothing to change.
    assert audit_service.compute_ratings(actor=SYSTEM)["changed"] == 0
    db.session.rollback()


# --- 3. alert delivery -----------------------------------------------------------------------


@pytest.fixture
def channels():
    """A real SMTP server and a webhook receiver checking signatures, in this process."""
    sink, receiver = SmtpSink(), WebhookReceiver()
    sink.start()
    receiver.start()
    yield sink, receiver
    receiver.stop()
    sink.stop()


@pytest.fixture
def specimen_alerts(app, make, db):
    """Raise alerts about a restricted test record; returns the queued deliveries' ids."""
    store = SpecimenStore()
    register_subject(
        app,
        "specimen",
        "case.view",
        can_open=lambda actor, rid: rid in store,
        handling=lambda rid: store[rid].handling_code,
    )

    def raise_alerts(hook_url, n_alerts=2, n_users=3):
        unit = make.unit()
        users = [make.user(roles=["supervisor"], unit=unit) for _ in range(n_users)]
        db.session.add(
            Webhook(name="ops room", url=hook_url, secret=WEBHOOK_SECRET, unit_id=unit.id,
                    min_severity="low")
        )  # fmt: skip
        db.session.flush()
        for n in range(n_alerts):
            record = store.add(unit, "P")
            raise_specimen_alert(record, {"users": [u.id for u in users]}, source_id=n + 1)
        db.session.commit()
        return db.session.scalars(
            select(Delivery.id).order_by(Delivery.next_attempt_dt, Delivery.id)
        ).all()

    yield raise_alerts
    unregister_subject(app, "specimen")


def _received(sink, receiver) -> Counter:
    """Messages received, by their idempotency key (Message-ID / X-Tollgate-Delivery)."""
    keys = Counter(str(m["Message-ID"]) for m in sink.messages)
    keys.update(f"hook-{r['headers']['X-Tollgate-Delivery']}" for r in receiver.received)
    return keys


def _key(row) -> str:
    return f"<delivery-{row.id}@tollgate>" if row.channel == "email" else f"hook-{row.id}"


@pytest.mark.parametrize(
    "point",
    [
        pytest.param("alerts.delivery.claimed", id="killed-before-the-send"),
        pytest.param("alerts.delivery.sent", id="killed-after-the-send"),
    ],
)
def test_sigkill_mid_delivery_loses_nothing(
    app, db, tmp_path, workers, channels, specimen_alerts, point
):
    """At-least-once, and exactly once for all but the delivery in flight.

    A delivery is claimed ("sending", committed), sent, and its result committed, one
    delivery at a time. Killed before the send, the claimed delivery is sent once by the
    worker that finishes the run. Killed after the send and before the commit, nobody can
    know the message went out: it is sent again, with the same Message-ID (e-mail) or
    X-Tollgate-Delivery (webhook), so receivers can drop the copy - exactly-once across an
    SMTP send and a database commit is impossible. That one message is the only duplicate;
    no delivery is lost, none waits for the stale-claim timeout.
    """
    sink, receiver = channels
    ids = specimen_alerts(receiver.url)
    assert len(ids) == 8  # 2 alerts x (3 e-mails + 1 webhook)
    job = "alerts.deliver"
    env = worker_env(
        app,
        tmp_path,
        TOLLGATE_WORKER_JOBS=job,
        TOLLGATE_TEST_JOB_INTERVALS=f"{job}=1",
        TOLLGATE_SMTP_HOST="127.0.0.1",
        TOLLGATE_SMTP_PORT=sink.port,
        TOLLGATE_SMTP_TIMEOUT=5,
        TOLLGATE_WEBHOOK_TIMEOUT=5,
        TOLLGATE_OUTBOUND_ALLOW="127.0.0.1",  # the webhook receiver is internal
        **crash_knobs(tmp_path, f"{point}#3"),
    )
    workers += start_pair(env, tmp_path)
    stopped = wait_for_crash_point(tmp_path, workers)
    in_flight = stopped["delivery"]
    assert in_flight == ids[2]

    db.session.rollback()
    rows = {r.id: r for r in db.session.scalars(select(Delivery))}
    assert [rows[i].status for i in ids[:3]] == ["sent", "sent", "sending"]
    sent_before = {_key(rows[i]) for i in ids[: 3 if point.endswith("sent") else 2]}
    assert set(_received(sink, receiver)) == sent_before
    (victim,) = _running(db, job)
    killed_at = victim.scheduled_dt

    survivors = kill(workers, stopped["pid"])
    unsent = select(func.count(Delivery.id)).where(Delivery.status != "sent")
    wait_until(
        lambda: _finished_after_crash(db, job, killed_at) and db.session.scalar(unsent) == 0,
        timeout=90,
        what="every delivery to be sent",
        procs=survivors,
    )
    stop_all(workers)
    _check_runs(db, job, killed_at, workers)

    db.session.rollback()
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    received = _received(sink, receiver)
    duplicate = 2 if point.endswith("sent") else 1
    assert received == {_key(r): duplicate if r.id == in_flight else 1 for r in rows}
    assert receiver.rejected == 0
    for row in rows:
        outcomes = [a.is_ok for a in row.attempt_rows]
        if row.id == in_flight:
            assert outcomes == [False, True] and row.attempts == 2
            assert row.attempt_rows[0].detail.startswith("interrupted")
        else:
            assert outcomes == [True] and row.attempts == 1
    # De-duplicated on their ids, each recipient holds each notification exactly once.
    mails = {str(m["Message-ID"]): (str(m["To"]), str(m["Subject"])) for m in sink.messages}
    assert sorted(mails.values()) == sorted(
        (r.target, r.subject) for r in rows if r.channel == "email"
    )
    posts = {r["headers"]["X-Tollgate-Delivery"]: r["json"]["alert_id"] for r in receiver.received}
    assert sorted(posts.values()) == sorted(r.alert_id for r in rows if r.channel == "webhook")
    assert "interrupted by a crash" in logs(workers)


def test_a_fresh_claim_is_never_taken_twice(app, db, channels, specimen_alerts):
    """Two senders that both listed a delivery as due: only the first claim wins."""
    sink, receiver = channels
    first, *_ = specimen_alerts(receiver.url)
    now = now_utc()
    assert first in alert_delivery._due_ids(now, 100)
    assert alert_delivery._claim(first, now) is not None
    assert alert_delivery._claim(first, now) is None  # claimed by the other sender just now
    # A claim older than STALE_CLAIM belongs to a dead sender and is taken again.
    later = now + alert_delivery.STALE_CLAIM + timedelta(seconds=1)
    assert alert_delivery._claim(first, later) is not None
