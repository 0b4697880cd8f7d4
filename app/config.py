"""Settings from the environment (``TOLLGATE_*``) with safe embedded defaults."""

import copy
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
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
    "SEARCH_REINDEX_PROCS": None,
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


def _text(value):
    return value


def _bool(value):
    """``1/true/yes/on`` (any case) is true; unset stays None (its reader decides)."""
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _list(value) -> list[str]:
    """``"a, b,,c"`` -> ["a", "b", "c"]."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _codes(value) -> list[str]:
    return [v.upper() for v in _list(value)]


def _pairs(value) -> dict[str, str]:
    """``"A=B,C=D"`` -> {"A": "B", "C": "D"} (blank entries ignored)."""
    pairs = (item.split("=", 1) for item in (value or "").split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs if key.strip() and value.strip()}


def _minutes(value) -> timedelta:
    return timedelta(minutes=int(value))


def _hours(value) -> timedelta:
    return timedelta(hours=int(value))


def _switch(value) -> bool:
    """A test knob: anything but unset, empty or "0" turns it on."""
    return (value or "") not in ("", "0")


def _sqlite_in_instance(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'tollgate.db'}"


def _in_instance(name: str) -> Callable[[Path], str]:
    return lambda instance_path: str(instance_path / name)


@dataclass(frozen=True)
class Setting:
    """One key of ``app.config``: read from ``TOLLGATE_<env>`` (its default in ENVIRONMENT)
    through ``parse``; ``fallback`` when the environment's value is empty, or the value itself
    for a key no environment setting feeds (a callable gets the instance folder)."""

    key: str
    env: str | None = None
    parse: Callable = _text
    fallback: object = None

    def value(self, instance_path: Path):
        raw = env_setting(self.env) if self.env else None
        if self.env and (raw or self.fallback is None):
            return self.parse(raw)
        if callable(self.fallback):
            return self.fallback(instance_path)
        return copy.deepcopy(self.fallback)  # a fresh dict or list for every app


def _t(name: str, parse: Callable = _text, fallback=None) -> Setting:
    """``TOLLGATE_<name>`` into the key of the same name."""
    return Setting(f"TOLLGATE_{name}", name, parse, fallback)


#: ``app.config`` as built from the environment, in one table (``build_config``).
SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", fallback=load_secret_key),
    Setting("SQLALCHEMY_DATABASE_URI", "DATABASE_URL", fallback=_sqlite_in_instance),
    Setting("SQLALCHEMY_ENGINE_OPTIONS", fallback={"pool_pre_ping": True}),
    # SQLite: how long a write waits for the one write lock before "database is locked".
    _t("SQLITE_BUSY_TIMEOUT", float),
    # Work one request may do, so that it answers in seconds and holds no lock for long
    # (bench/sqlite_contention.py): entities and links of one chart analysis (betweenness
    # grows with entities x links), items of one declaration batch (a batch holds SQLite's
    # write lock from its first declaration to its commit).
    _t("GRAPH_ANALYSE_MAX_NODES", int),
    _t("GRAPH_ANALYSE_MAX_LINKS", int),
    _t("API_BATCH_MAX_ITEMS", int),
    # Declaration intake (app/risk/intake.py): a declaration date lies within this many
    # days before or after today (imported history: never after), a value, a net mass
    # below these caps; larger is a 422 naming the field, never clamped.
    _t("DECLARATION_DATE_PAST_DAYS", int),
    _t("DECLARATION_DATE_FUTURE_DAYS", int),
    _t("DECLARATION_MAX_VALUE", float),
    _t("DECLARATION_MAX_MASS_KG", float),
    Setting("SESSION_COOKIE_NAME", fallback="tollgate_session"),
    Setting("SESSION_COOKIE_HTTPONLY", fallback=True),
    Setting("SESSION_COOKIE_SAMESITE", fallback="Lax"),
    # Chromium and the test client treat http://127.0.0.1 as a secure context,
    # so Secure cookies work for the embedded default too.
    Setting("SESSION_COOKIE_SECURE", "SECURE_COOKIES", _bool),
    # the CSRF token lives as long as the server-side session
    Setting("WTF_CSRF_TIME_LIMIT"),
    Setting("MAX_CONTENT_LENGTH", "MAX_UPLOAD_BYTES", int),
    # A JSON body (API, the pages' JSON calls) beyond this is a 413, and one nesting arrays
    # and objects deeper than this a 422, both before it is parsed (app/core/json_input.py).
    _t("JSON_MAX_BYTES", int),
    _t("JSON_MAX_DEPTH", int),
    Setting("TOLLGATE_IDLE_TIMEOUT", "IDLE_TIMEOUT_MINUTES", _minutes),
    Setting("TOLLGATE_SESSION_LIFETIME", "SESSION_LIFETIME_HOURS", _hours),
    _t("MAX_FAILED_LOGINS", int),
    Setting("TOLLGATE_LOCKOUT", "LOCKOUT_MINUTES", _minutes),
    # Failed sign-ins (and API requests with a bad bearer token) per client address before
    # it is answered 429 (app/security/throttle.py); successful sign-ins are not counted.
    # Unset ENABLED: on, except in apps built with TESTING. The store is per process
    # ("memory://") unless it names Redis, e.g. redis://127.0.0.1:6379/0.
    _t("RATELIMIT_ENABLED", _bool),
    _t("RATELIMIT_STORAGE_URI"),
    _t("SIGNIN_FAILURE_LIMIT"),
    _t("API_AUTH_FAILURE_LIMIT"),
    _t("EVIDENCE_DIR", fallback=_in_instance("evidence")),
    _t("SEARCH_DIR", fallback=_in_instance("search")),
    _t("SEARCH_BACKEND"),
    # Whoosh indexes in pure Python: a full rebuild of 20,000 documents or more is written
    # by this many processes (unset: one per core, at most two; app/search/backend_whoosh.py).
    _t("SEARCH_REINDEX_PROCS", int, fallback=lambda _path: min(2, os.cpu_count() or 1)),
    _t("EVADED_DUTY_THRESHOLD", float),
    # Amounts typed in forms are read in the locale the browser asks for (Accept-Language)
    # when it is one of NUMBER_LOCALES, else in NUMBER_LOCALE: "12,500" is 12500 in en,
    # 12.5 in de (app/cases/locales.py). The form says which locale it used.
    _t("NUMBER_LOCALE"),
    _t("NUMBER_LOCALES", _list),
    # A tile server for the seizure map, e.g. "https://tiles.example/{z}/{x}/{y}.png"; empty:
    # only the bundled country outlines (no request leaves the browser's own server).
    _t("MAP_TILE_URL"),
    _t("MAP_TILE_ATTRIBUTION"),
    # The unit of each customs office, "OFFICE=UNIT,..." (unit codes): a seizure case opened
    # from a control result opens there. An office not listed belongs to the unit with the
    # same code, if any, else the case opens in the recording unit (app/risk/control.py).
    _t("OFFICE_UNITS", _pairs),
    # Retention review (app/core/retention.py, each domain's retention.py; LED 2016/680
    # Art. 5): the days after which a record comes up for review on /admin/retention/, per
    # record type. Cases count from closing, reports and entities from their last change,
    # declarations from their date, articles from when they were collected.
    _t("RETENTION_CASE_DAYS", int),
    _t("RETENTION_REPORT_DAYS", int),
    _t("RETENTION_ENTITY_DAYS", int),
    _t("RETENTION_DECLARATION_DAYS", int),
    _t("RETENTION_ARTICLE_DAYS", int),
    # Four-eyes activation of risk profiles: a version is activated by someone other than
    # its author holding risk.profile.approve (a second analyst or a supervisor).
    _t("PROFILE_FOUR_EYES", _bool),
    _t("SMTP_HOST"),
    _t("SMTP_PORT", int),
    _t("MAIL_FROM"),
    _t("BASE_URL"),
    _t("FEED_ALLOWED_HOSTS", _list),
    # Internal networks and hosts that feeds and webhooks may reach (app/core/outbound.py),
    # e.g. "10.20.0.0/16, soar.customs.local"; everything not public is refused otherwise.
    _t("OUTBOUND_ALLOW", _list),
    # An e-mail or webhook failing this many times is given up ("failed"): with the
    # back-off of 30 s doubling to 1 h, 8 attempts span about an hour.
    _t("DELIVERY_MAX_ATTEMPTS", int),
    # A feed whose host gives no answer (refused, unresolved, timed out) this many polls
    # in a row is disabled; with its back-off, 10 polls are about a week.
    _t("FEED_MAX_NETWORK_FAILURES", int),
    _t("NLP_MODEL"),
    _t("FEED_TIMEOUT", float),
    _t("FEED_MAX_BYTES", int),
    # Seconds between two polls of the alert badge by an open page (Poll-Interval): 500
    # open pages at 10 s are 50 cheap requests a second; raise it to shed load.
    _t("ALERT_POLL_SECONDS", int),
    # What the top supervisor of a unit leaves unacknowledged (or escalates by hand) goes to
    # the holders of this role who may open the subject, in the headquarters units listed
    # (codes), e.g. TOLLGATE_ALERT_ESCALATION_UNITS=HQ-ENF; empty: nothing goes beyond a
    # unit, refused with a message (app/alerts/supervision.py).
    _t("ALERT_ESCALATION_ROLE"),
    _t("ALERT_ESCALATION_UNITS", _codes),
    _t("WORKER_LOCK", fallback=_in_instance("worker.lock")),
    # The access trail (app/security/trail_archive.py, checkpoints.py): kept at least this
    # many days (never under 365); signed checkpoints every MINUTES into FILE, keyed by KEY
    # or the 0600 KEY_FILE, each also handed to the ANCHOR command when set.
    _t("TRAIL_RETENTION_DAYS", int),
    _t("TRAIL_CHECKPOINT_KEY"),
    _t("TRAIL_CHECKPOINT_KEY_FILE", fallback=_in_instance("trail-checkpoint.key")),
    _t("TRAIL_CHECKPOINT_FILE", fallback=_in_instance("trail-checkpoints.jsonl")),
    _t("TRAIL_CHECKPOINT_MINUTES", int),
    _t("TRAIL_CHECKPOINT_ANCHOR"),
    # Alert delivery (app/alerts/delivery.py, tasks.py): connection timeouts (s), how often
    # the worker delivers, the first retry delay doubling up to the cap (s); the same source
    # on the same subject within FOLD minutes folds into one alert (60 unset).
    _t("SMTP_TIMEOUT", float),
    _t("WEBHOOK_TIMEOUT", float),
    _t("ALERT_DELIVERY_SECONDS", float),
    _t("ALERT_RETRY_SECONDS", float),
    _t("ALERT_RETRY_MAX_SECONDS", float),
    _t("ALERT_FOLD_MINUTES", int, fallback=60),
    # Per-severity acknowledgement deadlines (minutes) over app/alerts/routing.py's table.
    Setting("TOLLGATE_ALERT_DEADLINE_MINUTES", fallback={}),
    # One evidence file's size cap (20 MiB unset; app/cases/evidence.py).
    _t("EVIDENCE_MAX_BYTES", int, fallback=20 * 1024 * 1024),
    # Test switches, set by tests through create_app: a failing alert receiver raises
    # instead of logging; password hashing at its cheapest; SQLite's BEGIN IMMEDIATE on the
    # first write (app/core/database.py).
    Setting("TOLLGATE_ALERTS_RAISE", fallback=False),
    Setting("TOLLGATE_FAST_HASH", fallback=False),
    Setting("TOLLGATE_SQLITE_IMMEDIATE", fallback=True),
    # The worker's test mode (app/jobs/testing.py, app/ops/heartbeat.py): a heartbeat job
    # every TEST_JOB_SECONDS and the crash points armed.
    _t("TEST_JOBS", _switch),
    _t("TEST_JOB_SECONDS", float),
)


def build_config(instance_path: Path) -> dict:
    """Assemble the configuration mapping for ``app.config`` from ``SETTINGS``."""
    return {setting.key: setting.value(instance_path) for setting in SETTINGS}
