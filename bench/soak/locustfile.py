"""Soak traffic: declarations, control results, searches, case edits, link expansion, alert
acknowledgement, sent as an API client holding every scope (token in SOAK_TOKEN); open pages
of signed-in officers polling their alert badge's state (sessions in SOAK_PAGES_FILE); and
new clients opening the sign-in page and signing in (SOAK_SIGNER).

The task set is built from the live OpenAPI description when the test starts: a request type
whose operation does not exist yet is skipped with a printed note.
"""

import collections
import json
import os
import random
import re
import time
import uuid
from datetime import date

import requests
from locust import HttpUser, between, events, task

TOKEN = os.environ.get("SOAK_TOKEN", "")
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
DECLARED = collections.deque(maxlen=500)
DECLARED_AT: dict[str, float] = {}  # number -> when its 201 arrived (to date a failure)
#: every number answered 201, for the check that each was stored (nothing acknowledged and lost)
_ANSWERED_PATH = os.environ.get("SOAK_ANSWERED_FILE")
ANSWERED = open(_ANSWERED_PATH, "a") if _ANSWERED_PATH else None  # noqa: SIM115 - whole run
CASES = collections.deque(maxlen=200)
ENTITIES = collections.deque(maxlen=200)
WORDS = ["tobacco", "cigarettes", "Rotterdam", "container", "invoice", "freight", "seizure"]
OPERATIONS: set[str] = set()
_PAGES_PATH = os.environ.get("SOAK_PAGES_FILE")
PAGES = json.loads(open(_PAGES_PATH).read()) if _PAGES_PATH else []  # noqa: SIM115
_SEEN_PATH = os.environ.get("SOAK_SEEN_FILE")
SEEN = open(_SEEN_PATH, "a") if _SEEN_PATH else None  # noqa: SIM115 - whole run
SIGNER = json.loads(os.environ.get("SOAK_SIGNER") or "{}")
#: the CSRF token of a page's forms (WTForms' field and base.html's sign-out form alike)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _ok(response, also=()) -> bool:
    """2xx (and the listed codes, e.g. a race lost to another user) count as success; says
    whether the answer was a 2xx.

    Locust gives a request that got no answer at all (connection reset, refused, timed out)
    status 0 with the exception in ``response.error``: that is a failure, never a success.
    Session 4 counted it as one (``0 < 300``), which hid a transport error and wrote a
    declaration the server never received into the "answered" list.
    """
    if response.status_code == 0:
        response.failure(f"no answer: {response.error!r}"[:300])
        return False
    if 200 <= response.status_code < 300 or response.status_code in also:
        response.success()
    else:
        response.failure(f"{response.status_code}: {response.text[:200]}")
    return 200 <= response.status_code < 300


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {}


class SoakUser(HttpUser):
    wait_time = between(0.5, 2.0)

    def declare(self):
        number = f"SOAK{uuid.uuid4().hex[:12].upper()}"
        body = {
            "number": number,
            "date": date.today().isoformat(),
            "office": "BCP-N",
            "importer": random.choice(["Baltic Freight Ltd", "Adriatic Trade d.o.o."]),
            "dispatch_country": random.choice(["NL", "CN", "TR", "DE"]),
            "items": [
                {
                    "hs_code": random.choice(["240220", "850440", "610910", "870323"]),
                    "value": round(random.uniform(100, 90000), 2),
                    "origin": random.choice(["CN", "TR", "US"]),
                    "mass": round(random.uniform(1, 5000), 1),
                }
                for _ in range(random.randint(1, 4))
            ],
        }
        with self.client.post(
            "/api/v1/declarations",
            json=body,
            headers=HEADERS,
            name="declaration: assess",
            catch_response=True,
        ) as r:
            if _ok(r):
                if len(DECLARED) == DECLARED.maxlen:
                    DECLARED_AT.pop(DECLARED[0], None)
                DECLARED.append(number)
                DECLARED_AT[number] = time.monotonic()
                if ANSWERED is not None:
                    ANSWERED.write(f"{number} {time.time():.3f}\n")
                    ANSWERED.flush()

    def control_result(self):
        if not DECLARED:
            return self.declare()
        number = random.choice(DECLARED)
        compliant = random.random() < 0.8
        # A declaration drawn again gets a correction (issue 17 item 3): it needs a reason.
        body = {
            "inspected": True,
            "compliant": compliant,
            "findings": "soak control",
            "reason": "soak: re-checked",
        }
        if not compliant:
            body["fraud_type"] = random.choice(["undervaluation", "origin", "misclassification"])
        with self.client.post(
            f"/api/v1/declarations/{number}/control-result",
            json=body,
            headers=HEADERS,
            name="declaration: control result",
            catch_response=True,
        ) as r:
            _ok(r, also=(409,))
            if r.status_code == 404:
                age = time.monotonic() - DECLARED_AT.get(number, float("nan"))
                r.failure(f"404 for {number}, declared {age:.3f}s earlier: {r.text[:120]}")

    def search(self):
        with self.client.get(
            "/api/v1/search",
            params={"q": random.choice(WORDS)},
            headers=HEADERS,
            name="search",
            catch_response=True,
        ) as r:
            _ok(r)

    def case_edit(self):
        if len(CASES) < 5:
            body = {"kind": "offence", "title": f"Soak case {uuid.uuid4().hex[:6]}"}
            with self.client.post(
                "/api/v1/cases",
                json=body,
                headers=HEADERS,
                name="case: create",
                catch_response=True,
            ) as r:
                if _ok(r) and "id" in _json(r):
                    CASES.append(_json(r)["id"])
            return
        case_id = random.choice(CASES)
        with self.client.patch(
            f"/api/v1/cases/{case_id}",
            json={"title": f"Soak case edited {uuid.uuid4().hex[:6]}"},
            headers=HEADERS,
            name="case: edit",
            catch_response=True,
        ) as r:
            _ok(r, also=(409,))

    def link_expansion(self):
        if len(ENTITIES) < 2 or random.random() < 0.2:
            body = {"type": "organisation", "name": f"Soak Trading {uuid.uuid4().hex[:6]}"}
            with self.client.post(
                "/api/v1/entities",
                json=body,
                headers=HEADERS,
                name="entity: create",
                catch_response=True,
            ) as r:
                if _ok(r) and "id" in _json(r):
                    ENTITIES.append(_json(r)["id"])
            return
        source, target = random.sample(list(ENTITIES), 2)
        if "POST /api/v1/links" in OPERATIONS and random.random() < 0.3:
            body = {"source_id": source, "target_id": target, "link_type": "associate_of"}
            with self.client.post(
                "/api/v1/links",
                json=body,
                headers=HEADERS,
                name="link: create",
                catch_response=True,
            ) as r:
                _ok(r, also=(409,))
        with self.client.get(
            f"/api/v1/entities/{source}",
            headers=HEADERS,
            name="entity: expand links",
            catch_response=True,
        ) as r:
            _ok(r)

    def alert_acknowledge(self):
        with self.client.get(
            "/api/v1/alerts",
            params={"status": "new", "per_page": 5},
            headers=HEADERS,
            name="alerts: list new",
            catch_response=True,
        ) as r:
            _ok(r)
            items = _json(r).get("items") or []
        if items:
            alert_id = random.choice(items)["id"]
            with self.client.post(
                f"/api/v1/alerts/{alert_id}/acknowledge",
                json={"note": "soak"},
                headers=HEADERS,
                name="alerts: acknowledge",
                catch_response=True,
            ) as r:
                # Another user acknowledged it between the list and this request: a lost race
                # (the API's 422 names the alert's status), not an error.
                raced = r.status_code == 422 and "already acknowledged" in r.text
                _ok(r, also=(422,) if raced else ())


class OpenPage(HttpUser):
    """An officer's open page: its alert badge asks for the inbox state with the ETag of the
    last answer, and asks again after the server's Poll-Interval (static/js/alerts.js)."""

    fixed_count = len(PAGES)

    def on_start(self):
        page = PAGES.pop()
        self.cookie, self.watcher = page["cookie"], page["watcher"]
        self.etag, self.latest, self.interval, self.polled = None, None, 10.0, False

    def wait_time(self):
        return self.interval

    @task
    def poll(self):
        headers = {"Cookie": self.cookie}
        if self.etag:
            headers["If-None-Match"] = self.etag
        with self.client.get(
            "/alerts/state",
            headers=headers,
            name="open page: alert state",
            catch_response=True,
            allow_redirects=False,
        ) as r:
            if not _ok(r, also=(304,)):
                return
            self.interval = float(r.headers.get("Poll-Interval") or self.interval)
            if r.status_code != 200:
                return
            self.etag = r.headers.get("ETag")
            latest = (_json(r).get("latest") or {}).get("id")
            # A change seen by a page that had asked before: the first answer is the page load.
            changed = self.polled and latest != self.latest
            if self.watcher and SEEN is not None and latest and changed:
                SEEN.write(f"{latest} {time.time():.3f}\n")
                SEEN.flush()
            self.polled = True
            self.latest = latest


class SignIn(HttpUser):
    """A new client: opens the sign-in page; one visit in five signs in, opens the home page
    and signs out."""

    fixed_count = 2 if SIGNER else 0
    wait_time = between(1.0, 3.0)

    @task
    def sign_in(self):
        self.client.cookies.clear()
        with self.client.get("/login", name="sign-in page", catch_response=True) as r:
            if not _ok(r):
                return
            token = next(iter(CSRF.findall(r.text)), None)
        if random.random() >= 0.2:
            return
        form = {"csrf_token": token, "username": SIGNER["username"]}
        form["password"] = SIGNER["password"]
        with self.client.post(
            "/login", data=form, name="sign-in", catch_response=True, allow_redirects=False
        ) as r:
            if r.status_code != 302:
                r.failure(f"sign-in answered {r.status_code}: {r.text[:200]}")
                return
            r.success()
        with self.client.get("/", name="home page", catch_response=True) as r:
            if not _ok(r):
                return
            token = next(iter(CSRF.findall(r.text)), token)
        with self.client.post(
            "/logout",
            data={"csrf_token": token},
            name="sign-out",
            catch_response=True,
            allow_redirects=False,
        ) as r:
            _ok(r, also=(302,))


#: request type -> (task, weight, operations it needs)
PLAN = {
    "declaration assessment": (SoakUser.declare, 5, ["POST /api/v1/declarations"]),
    "control results": (
        SoakUser.control_result,
        2,
        ["POST /api/v1/declarations", "POST /api/v1/declarations/{number}/control-result"],
    ),
    "searches": (SoakUser.search, 3, ["GET /api/v1/search"]),
    "case edits": (
        SoakUser.case_edit,
        2,
        ["POST /api/v1/cases", "PATCH /api/v1/cases/{case_id}"],
    ),
    "link expansion": (
        SoakUser.link_expansion,
        2,
        ["POST /api/v1/entities", "GET /api/v1/entities/{id}"],
    ),
    "alert acknowledgement": (
        SoakUser.alert_acknowledge,
        1,
        ["GET /api/v1/alerts", "POST /api/v1/alerts/{id}/acknowledge"],
    ),
}


@events.test_start.add_listener
def _choose_tasks(environment, **_kw):
    spec = requests.get(f"{environment.host}/api/v1/openapi.json", timeout=30).json()
    OPERATIONS.update(
        f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
    )
    tasks = []
    for label, (job, weight, needs) in PLAN.items():
        missing = [op for op in needs if op not in OPERATIONS]
        if missing:
            print(f"soak: skipping {label}: the API has no {', '.join(missing)} yet")
            continue
        tasks.extend([job] * weight)
    if not tasks:
        raise SystemExit("soak: no request type is available in the OpenAPI description")
    SoakUser.tasks = tasks
