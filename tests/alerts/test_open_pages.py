"""Hundreds of open pages do not stall the service (issue 16, item 1).

Every page of a signed-in user keeps its alert badge current. With a server-sent-event stream
each open page held one of gunicorn's threads (2 workers x 8) for 40 s, so 16 tabs across the
organisation took every thread and sign-in pages of other users timed out. Here gunicorn runs
as ``tollgate serve`` runs it (app/gunicorn_conf.py, 2 workers) and 200 simulated pages do
what the badge's script does: read the live-update address from the page itself, ask it,
read the answer to its end and ask again when the server says (``Poll-Interval`` for a poll,
the answer's end and ``retry:`` for a stream). Then 20 new clients open the sign-in page: all
must answer, and the pages must still learn of a new alert. Outcomes, not timings, are asserted;
the timeouts only bound a stall.
"""

import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from app.security import service as security
from tests.alerts.factories import raise_specimen_alert
from tests.ops.workers import app_env, free_port, healthy, start_gunicorn, wait_until

PAGES = 200
SIGN_INS = 20
POLL_SECONDS = 2
#: a sign-in page that has not answered by then is stalled (it answers in milliseconds)
SIGN_IN_TIMEOUT = 15
BADGE = re.compile(r'id="alerts-badge"[^>]*data-(?:state|stream)="([^"]+)"')


def _cookie(app, token):
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'sid': token})}"


class OpenPage(threading.Thread):
    """One browser tab: its badge's live-update loop, over its own connection."""

    def __init__(self, port, cookie, stop):
        super().__init__(daemon=True)
        self.port, self.cookie, self.stop = port, cookie, stop
        self.asked = threading.Event()  # the first live-update request is on its way
        self.states = []  # the unread counts it was told
        self.errors = []

    def _get(self, conn, path, headers=None):
        conn.request("GET", path, headers={"Cookie": self.cookie, **(headers or {})})
        self.asked.set()
        resp = conn.getresponse()
        return resp, resp.read()  # to the end: a stream holds the request until it ends

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            _, html = self._get(conn, "/alerts/")
            url = BADGE.search(html.decode()).group(1)
            etag = None
            while not self.stop.is_set():
                resp, body = self._get(conn, url, {"If-None-Match": etag} if etag else {})
                if resp.status == 200 and resp.getheader("ETag"):
                    etag = resp.getheader("ETag")
                    self.states.append(int(re.search(rb'"unread": (\d+)', body).group(1)))
                elif resp.status not in (200, 304):
                    self.errors.append(resp.status)
                wait = float(resp.getheader("Poll-Interval") or 2)  # an SSE retry is 2 s
                self.stop.wait(wait)
        except (OSError, http.client.HTTPException, AttributeError) as exc:
            if not self.stop.is_set():
                self.errors.append(repr(exc))
        finally:
            conn.close()


def _sign_in_page(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SIGN_IN_TIMEOUT)
    try:
        conn.request("GET", "/login")
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, b"password" in body.lower()
    except OSError as exc:
        return repr(exc), False
    finally:
        conn.close()


def test_two_hundred_open_pages_leave_sign_in_answering(app, db, make, specimens, tmp_path):
    unit = make.unit()
    officers = [make.user(roles=["supervisor"], unit=unit) for _ in range(PAGES // 10)]
    tokens = [
        security.start_session(officers[i % len(officers)], "127.0.0.1") for i in range(PAGES)
    ]
    record = specimens.add(unit)
    db.session.commit()

    port = free_port()
    env = app_env(app, tmp_path) | {
        "TOLLGATE_SECRET_KEY": app.config["SECRET_KEY"],  # the pages' session cookies
        "TOLLGATE_ALERT_POLL_SECONDS": str(POLL_SECONDS),
    }
    log_path = tmp_path / "gunicorn.log"
    stop = threading.Event()
    with open(log_path, "w") as log:
        master = start_gunicorn(env, port, log, workers=2)
        pages = []
        try:
            wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), timeout=240, what="gunicorn")
            pages = [OpenPage(port, _cookie(app, t), stop) for t in tokens]
            for page in pages:
                page.start()
            wait_until(lambda: all(p.asked.is_set() for p in pages), timeout=60, what="pages")
            time.sleep(POLL_SECONDS)  # every page is now between two asks, or held by one

            with ThreadPoolExecutor(SIGN_INS) as pool:
                answers = list(pool.map(_sign_in_page, [port] * SIGN_INS))
            assert answers == [(200, True)] * SIGN_INS, f"sign-in pages stalled: {answers}"

            # The open pages still learn of a new alert for their user.
            watcher = officers[0]
            db.session.rollback()  # a fresh snapshot: the pages' requests wrote since
            raise_specimen_alert(record, {"users": [watcher.id]})
            db.session.commit()
            theirs = pages[:: len(officers)]  # the pages opened with the watcher's sessions
            wait_until(
                lambda: all(p.states and p.states[-1] == 1 for p in theirs),
                timeout=6 * POLL_SECONDS,
                what="the new alert on the watcher's open pages",
            )
            assert [p.errors for p in pages if p.errors] == []
        finally:
            stop.set()
            master.terminate()
            master.wait(timeout=60)
            for page in pages:
                page.join(timeout=5)
