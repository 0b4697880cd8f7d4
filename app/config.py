"""Settings from the environment (``TOLLGATE_*``) with safe embedded defaults."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


#: Every environment setting, ``TOLLGATE_<name>``, declared once, with its default as the
#: environment would spell it (None: unset, and build_config says what unset means). Code reads
#: them through ``build_config`` (``app.config``) or, for the few read before or outside an
#: app (the worker's test knobs), ``env_setting``; the README's settings lists each one
#: (tests/test_config_registry.py). ``TEST_*``: the worker's test knobs (app/jobs/testing.py).
ENVIRONMENT: dict[str, object] = {
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    "SQLITE_BUSY_TIMEOUT": "30",
    "GRAPH_ANALYSE_MAX_NODES": "500",
    "GRAPH_ANALYSE_MAX_LINKS": "5000",
    "API_BATCH_MAX_ITEMS": "5000",
    "DECLARATION_DATE_PAST_DAYS": "730",
    "DECLARATION_DATE_FUTURE_DAYS": "30",
    "DECLARATION_MAX_VALUE": "1e12",
    "DECLARATION_MAX_MASS_KG": "1e9",
    "SECURE_COOKIES": True,
    "MAX_UPLOAD_BYTES": str(25 * 1024 * 1024),
    "JSON_MAX_BYTES": str(8 * 1024 * 1024),
    "JSON_MAX_DEPTH": "128",
    "IDLE_TIMEOUT_MINUTES": "30",
    "SESSION_LIFETIME_HOURS": "12",
    "MAX_FAILED_LOGINS": "5",
    "LOCKOUT_MINUTES": "15",
    "RATELIMIT_ENABLED": None,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SIGNIN_FAILURE_LIMIT": "10/minute;100/hour",
    "API_AUTH_FAILURE_LIMIT": "10/minute;100/hour",
    "EVIDENCE_DIR": None,
    "SEARCH_DIR": None,
    "SEARCH_BACKEND": "auto",
    "EVADED_DUTY_THRESHOLD": "5000",
    "NUMBER_LOCALE": "en",
    "NUMBER_LOCALES": "en,de,fr,sr_Latn",
    "MAP_TILE_URL": "",
    "MAP_TILE_ATTRIBUTION": "",
    "RETENTION_CASE_DAYS": "3650",
    "RETENTION_REPORT_DAYS": "1825",
    "RETENTION_ENTITY_DAYS": "1825",
    "RETENTION_DECLARATION_DAYS": "1825",
    "RETENTION_ARTICLE_DAYS": "365",
    "PROFILE_FOUR_EYES": False,
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "25",
    "MAIL_FROM": "tollgate@localhost",
    "BASE_URL": "http://127.0.0.1:5000",
    "FEED_ALLOWED_HOSTS": "",
    "OUTBOUND_ALLOW": "",
    "DELIVERY_MAX_ATTEMPTS": "8",
    "FEED_MAX_NETWORK_FAILURES": "10",
    "NLP_MODEL": "auto",
    "FEED_TIMEOUT": "15",
    "FEED_MAX_BYTES": str(5 * 1024 * 1024),
    "ALERT_POLL_SECONDS": "10",
    "ALERT_ESCALATION_ROLE": "supervisor",
    "ALERT_ESCALATION_UNITS": "",
    "WORKER_LOCK": None,
    "OFFICE_UNITS": None,
    "TRAIL_RETENTION_DAYS": "365",
    "TRAIL_CHECKPOINT_KEY": None,
    "TRAIL_CHECKPOINT_KEY_FILE": None,
    "TRAIL_CHECKPOINT_FILE": None,
    "TRAIL_CHECKPOINT_MINUTES": "15",
    "TRAIL_CHECKPOINT_ANCHOR": "",
    "SMTP_TIMEOUT": "10",
    "WEBHOOK_TIMEOUT": "10",
    "ALERT_DELIVERY_SECONDS": "15",
    "ALERT_RETRY_SECONDS": "30",
    "ALERT_RETRY_MAX_SECONDS": "3600",
    "ALERT_FOLD_MINUTES": None,
    "EVIDENCE_MAX_BYTES": None,
    "SCREENING_CHECK_SECONDS": "2",
    "WORKER_JOBS": "",
    "TEST_JOBS": "",
    "TEST_JOB_SECONDS": "2",
    "TEST_JOB_SLEEP": "0",
    "TEST_JOB_INTERVALS": "",
    "TEST_CRASH_AT": None,
    "TEST_CRASH_FILE": None,
}


def env_setting(name: str):
    """``TOLLGATE_<name>`` from the environment, else its declared default."""
    if name not in ENVIRONMENT:
        raise KeyError(f"TOLLGATE_{name} is not declared in app.config.ENVIRONMENT")
    return os.environ.get(f"TOLLGATE_{name}", ENVIRONMENT[name])


def _env(name):
    return env_setting(name)


def _bool(name):
    value = env_setting(name)
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _pairs(name) -> dict[str, str]:
    """``"A=B,C=D"`` -> {"A": "B", "C": "D"} (blank entries ignored)."""
    pairs = (item.split("=", 1) for item in (_env(name) or "").split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs if key.strip() and value.strip()}


def load_secret_key(instance_path: Path) -> str:
    """Return TOLLGATE_SECRET_KEY, else a key generated once and kept in the instance folder."""
    if key := _env("SECRET_KEY"):
        return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def build_config(instance_path: Path) -> dict:
    """Assemble the configuration mapping for ``app.config``."""
    db_url = _env("DATABASE_URL") or f"sqlite:///{instance_path / 'tollgate.db'}"
    return {
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # SQLite: how long a write waits for the one write lock before "database is locked".
        "TOLLGATE_SQLITE_BUSY_TIMEOUT": float(_env("SQLITE_BUSY_TIMEOUT")),
        # Work one request may do, so that it answers in seconds and holds no lock for long
        # (bench/sqlite_contention.py): entities and links of one chart analysis (betweenness
        # grows with entities x links), items of one declaration batch (a batch holds SQLite's
        # write lock from its first declaration to its commit).
        "TOLLGATE_GRAPH_ANALYSE_MAX_NODES": int(_env("GRAPH_ANALYSE_MAX_NODES")),
        "TOLLGATE_GRAPH_ANALYSE_MAX_LINKS": int(_env("GRAPH_ANALYSE_MAX_LINKS")),
        "TOLLGATE_API_BATCH_MAX_ITEMS": int(_env("API_BATCH_MAX_ITEMS")),
        # Declaration intake (app/risk/intake.py): a declaration date lies within this many
        # days before or after today (imported history: never after), a value, a net mass
        # below these caps; larger is a 422 naming the field, never clamped.
        "TOLLGATE_DECLARATION_DATE_PAST_DAYS": int(_env("DECLARATION_DATE_PAST_DAYS")),
        "TOLLGATE_DECLARATION_DATE_FUTURE_DAYS": int(_env("DECLARATION_DATE_FUTURE_DAYS")),
        "TOLLGATE_DECLARATION_MAX_VALUE": float(_env("DECLARATION_MAX_VALUE")),
        "TOLLGATE_DECLARATION_MAX_MASS_KG": float(_env("DECLARATION_MAX_MASS_KG")),
        "SESSION_COOKIE_NAME": "tollgate_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Chromium and the test client treat http://127.0.0.1 as a secure context,
        # so Secure cookies work for the embedded default too.
        "SESSION_COOKIE_SECURE": _bool("SECURE_COOKIES"),
        "WTF_CSRF_TIME_LIMIT": None,  # the CSRF token lives as long as the server-side session
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_BYTES")),
        # A JSON body (API, the pages' JSON calls) beyond this is a 413, and one nesting arrays
        # and objects deeper than this a 422, both before it is parsed (app/core/json_input.py).
        "TOLLGATE_JSON_MAX_BYTES": int(_env("JSON_MAX_BYTES")),
        "TOLLGATE_JSON_MAX_DEPTH": int(_env("JSON_MAX_DEPTH")),
        "TOLLGATE_IDLE_TIMEOUT": timedelta(minutes=int(_env("IDLE_TIMEOUT_MINUTES"))),
        "TOLLGATE_SESSION_LIFETIME": timedelta(hours=int(_env("SESSION_LIFETIME_HOURS"))),
        "TOLLGATE_MAX_FAILED_LOGINS": int(_env("MAX_FAILED_LOGINS")),
        "TOLLGATE_LOCKOUT": timedelta(minutes=int(_env("LOCKOUT_MINUTES"))),
        # Failed sign-ins (and API requests with a bad bearer token) per client address before
        # it is answered 429 (app/security/throttle.py); successful sign-ins are not counted.
        # Unset ENABLED: on, except in apps built with TESTING. The store is per process
        # ("memory://") unless it names Redis, e.g. redis://127.0.0.1:6379/0.
        "TOLLGATE_RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED"),
        "TOLLGATE_RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI"),
        "TOLLGATE_SIGNIN_FAILURE_LIMIT": _env("SIGNIN_FAILURE_LIMIT"),
        "TOLLGATE_API_AUTH_FAILURE_LIMIT": _env("API_AUTH_FAILURE_LIMIT"),
        "TOLLGATE_EVIDENCE_DIR": _env("EVIDENCE_DIR") or str(instance_path / "evidence"),
        "TOLLGATE_SEARCH_DIR": _env("SEARCH_DIR") or str(instance_path / "search"),
        "TOLLGATE_SEARCH_BACKEND": _env("SEARCH_BACKEND"),
        "TOLLGATE_EVADED_DUTY_THRESHOLD": float(_env("EVADED_DUTY_THRESHOLD")),
        # Amounts typed in forms are read in the locale the browser asks for (Accept-Language)
        # when it is one of NUMBER_LOCALES, else in NUMBER_LOCALE: "12,500" is 12500 in en,
        # 12.5 in de (app/cases/locales.py). The form says which locale it used.
        "TOLLGATE_NUMBER_LOCALE": _env("NUMBER_LOCALE"),
        "TOLLGATE_NUMBER_LOCALES": [
            v.strip() for v in _env("NUMBER_LOCALES").split(",") if v.strip()
        ],
        # A tile server for the seizure map, e.g. "https://tiles.example/{z}/{x}/{y}.png"; empty:
        # only the bundled country outlines (no request leaves the browser's own server).
        "TOLLGATE_MAP_TILE_URL": _env("MAP_TILE_URL"),
        "TOLLGATE_MAP_TILE_ATTRIBUTION": _env("MAP_TILE_ATTRIBUTION"),
        # The unit of each customs office, "OFFICE=UNIT,..." (unit codes): a seizure case opened
        # from a control result opens there. An office not listed belongs to the unit with the
        # same code, if any, else the case opens in the recording unit (app/risk/control.py).
        "TOLLGATE_OFFICE_UNITS": _pairs("OFFICE_UNITS"),
        # Retention review (app/ops/retention_sources.py; LED 2016/680 Art. 5): the days after
        # which a record comes up for review on /admin/retention/, per record type. Cases count
        # from closing, reports and entities from their last change, declarations from their
        # date, articles from when they were collected.
        "TOLLGATE_RETENTION_CASE_DAYS": int(_env("RETENTION_CASE_DAYS")),
        "TOLLGATE_RETENTION_REPORT_DAYS": int(_env("RETENTION_REPORT_DAYS")),
        "TOLLGATE_RETENTION_ENTITY_DAYS": int(_env("RETENTION_ENTITY_DAYS")),
        "TOLLGATE_RETENTION_DECLARATION_DAYS": int(_env("RETENTION_DECLARATION_DAYS")),
        "TOLLGATE_RETENTION_ARTICLE_DAYS": int(_env("RETENTION_ARTICLE_DAYS")),
        # Four-eyes activation of risk profiles: a version is activated by someone other than
        # its author holding risk.profile.approve (a second analyst or a supervisor).
        "TOLLGATE_PROFILE_FOUR_EYES": _bool("PROFILE_FOUR_EYES"),
        "TOLLGATE_SMTP_HOST": _env("SMTP_HOST"),
        "TOLLGATE_SMTP_PORT": int(_env("SMTP_PORT")),
        "TOLLGATE_MAIL_FROM": _env("MAIL_FROM"),
        "TOLLGATE_BASE_URL": _env("BASE_URL"),
        "TOLLGATE_FEED_ALLOWED_HOSTS": [
            h.strip() for h in _env("FEED_ALLOWED_HOSTS").split(",") if h.strip()
        ],
        # Internal networks and hosts that feeds and webhooks may reach (app/core/outbound.py),
        # e.g. "10.20.0.0/16, soar.customs.local"; everything not public is refused otherwise.
        "TOLLGATE_OUTBOUND_ALLOW": [
            h.strip() for h in _env("OUTBOUND_ALLOW").split(",") if h.strip()
        ],
        # An e-mail or webhook failing this many times is given up ("failed"): with the
        # back-off of 30 s doubling to 1 h, 8 attempts span about an hour.
        "TOLLGATE_DELIVERY_MAX_ATTEMPTS": int(_env("DELIVERY_MAX_ATTEMPTS")),
        # A feed whose host gives no answer (refused, unresolved, timed out) this many polls
        # in a row is disabled; with its back-off, 10 polls are about a week.
        "TOLLGATE_FEED_MAX_NETWORK_FAILURES": int(_env("FEED_MAX_NETWORK_FAILURES")),
        "TOLLGATE_NLP_MODEL": _env("NLP_MODEL"),
        "TOLLGATE_FEED_TIMEOUT": float(_env("FEED_TIMEOUT")),
        "TOLLGATE_FEED_MAX_BYTES": int(_env("FEED_MAX_BYTES")),
        # Seconds between two polls of the alert badge by an open page (Poll-Interval): 500
        # open pages at 10 s are 50 cheap requests a second; raise it to shed load.
        "TOLLGATE_ALERT_POLL_SECONDS": int(_env("ALERT_POLL_SECONDS")),
        # What the top supervisor of a unit leaves unacknowledged (or escalates by hand) goes to
        # the holders of this role who may open the subject, in the headquarters units listed
        # (codes), e.g. TOLLGATE_ALERT_ESCALATION_UNITS=HQ-ENF; empty: nothing goes beyond a
        # unit, refused with a message (app/alerts/supervision.py).
        "TOLLGATE_ALERT_ESCALATION_ROLE": _env("ALERT_ESCALATION_ROLE"),
        "TOLLGATE_ALERT_ESCALATION_UNITS": [
            v.strip().upper() for v in _env("ALERT_ESCALATION_UNITS").split(",") if v.strip()
        ],
        "TOLLGATE_WORKER_LOCK": _env("WORKER_LOCK") or str(instance_path / "worker.lock"),
        # The access trail (app/security/trail_archive.py, checkpoints.py): kept at least this
        # many days (never under 365); signed checkpoints every MINUTES into FILE, keyed by KEY
        # or the 0600 KEY_FILE, each also handed to the ANCHOR command when set.
        "TOLLGATE_TRAIL_RETENTION_DAYS": int(_env("TRAIL_RETENTION_DAYS")),
        "TOLLGATE_TRAIL_CHECKPOINT_KEY": _env("TRAIL_CHECKPOINT_KEY"),
        "TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE": _env("TRAIL_CHECKPOINT_KEY_FILE")
        or str(instance_path / "trail-checkpoint.key"),
        "TOLLGATE_TRAIL_CHECKPOINT_FILE": _env("TRAIL_CHECKPOINT_FILE")
        or str(instance_path / "trail-checkpoints.jsonl"),
        "TOLLGATE_TRAIL_CHECKPOINT_MINUTES": int(_env("TRAIL_CHECKPOINT_MINUTES")),
        "TOLLGATE_TRAIL_CHECKPOINT_ANCHOR": _env("TRAIL_CHECKPOINT_ANCHOR"),
        # Alert delivery (app/alerts/delivery.py, tasks.py): connection timeouts (s), how often
        # the worker delivers, the first retry delay doubling up to the cap (s); the same source
        # on the same subject within FOLD minutes folds into one alert (60 unset).
        "TOLLGATE_SMTP_TIMEOUT": float(_env("SMTP_TIMEOUT")),
        "TOLLGATE_WEBHOOK_TIMEOUT": float(_env("WEBHOOK_TIMEOUT")),
        "TOLLGATE_ALERT_DELIVERY_SECONDS": float(_env("ALERT_DELIVERY_SECONDS")),
        "TOLLGATE_ALERT_RETRY_SECONDS": float(_env("ALERT_RETRY_SECONDS")),
        "TOLLGATE_ALERT_RETRY_MAX_SECONDS": float(_env("ALERT_RETRY_MAX_SECONDS")),
        "TOLLGATE_ALERT_FOLD_MINUTES": int(_env("ALERT_FOLD_MINUTES") or 60),
        # Per-severity acknowledgement deadlines (minutes) over app/alerts/routing.py's table.
        "TOLLGATE_ALERT_DEADLINE_MINUTES": {},
        # One evidence file's size cap (20 MiB unset; app/cases/evidence.py).
        "TOLLGATE_EVIDENCE_MAX_BYTES": int(_env("EVIDENCE_MAX_BYTES") or 20 * 1024 * 1024),
        # Test switches, set by tests through create_app: a failing alert receiver raises
        # instead of logging; password hashing at its cheapest; SQLite's BEGIN IMMEDIATE on the
        # first write (app/core/database.py).
        "TOLLGATE_ALERTS_RAISE": False,
        "TOLLGATE_FAST_HASH": False,
        "TOLLGATE_SQLITE_IMMEDIATE": True,
        # The worker's test mode (app/jobs/testing.py, app/ops/heartbeat.py): a heartbeat job
        # every TEST_JOB_SECONDS and the crash points armed.
        "TOLLGATE_TEST_JOBS": (_env("TEST_JOBS") or "") not in ("", "0"),
        "TOLLGATE_TEST_JOB_SECONDS": float(_env("TEST_JOB_SECONDS")),
    }
