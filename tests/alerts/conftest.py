"""Fixtures of the alerts tests: a real local SMTP server, a real local webhook receiver
that checks the HMAC signature, and a small restricted record type to alert about."""

import json
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from app.alerts.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from app.alerts.subjects import register_subject, unregister_subject
from app.security.access import can_see

WEBHOOK_SECRET = "test-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _alerts_config(app, monkeypatch):
    # Receivers normally log and carry on; in tests a fault must fail the test.
    monkeypatch.setitem(app.config, "TOLLGATE_ALERTS_RAISE", True)
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_RETRY_SECONDS", 1)
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_RETRY_MAX_SECONDS", 2)
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_TIMEOUT", 3)
    monkeypatch.setitem(app.config, "TOLLGATE_WEBHOOK_TIMEOUT", 3)
    # The back-off above is seconds, not minutes: outage tests retry many times in a row.
    monkeypatch.setitem(app.config, "TOLLGATE_DELIVERY_MAX_ATTEMPTS", 30)


# --- a restricted record type of this test suite ---------------------------------------------


@dataclass
class Specimen:
    """Stands in for another domain's restricted record (unit, handling code)."""

    id: int
    unit_id: int
    handling_code: str = "C"
    handling_conditions: str | None = None
    __record_type__ = "specimen"


class SpecimenStore(dict):
    def add(self, unit, handling_code="C") -> Specimen:
        record = Specimen(len(self) + 1000, unit.id, handling_code)
        self[record.id] = record
        return record


def register_specimens(app, store: SpecimenStore) -> None:
    """Make "specimen" an alert subject of ``app``, need-to-know checked with ``can_see``."""
    register_subject(
        app,
        "specimen",
        "case.view",
        can_open=lambda actor, rid: rid in store and can_see(actor, store[rid]),
        handling=lambda rid: store[rid].handling_code,
    )


@pytest.fixture
def specimens(app):
    """Register "specimen" as an alert subject, need-to-know checked with ``can_see``."""
    store = SpecimenStore()
    register_specimens(app, store)
    yield store
    unregister_subject(app, "specimen")


# --- a real SMTP server ----------------------------------------------------------------------


class SmtpSink:
    def __init__(self):
        self.messages = []
        self.port = free_port()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(app, monkeypatch):
    sink = SmtpSink()
    sink.start()
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", sink.port)
    yield sink
    sink.stop()


# --- a real webhook receiver -----------------------------------------------------------------


class WebhookReceiver:
    """Accepts POSTs whose HMAC signature checks out; answers 401 to the others."""

    def __init__(self, secret=WEBHOOK_SECRET):
        self.secret = secret
        self.received = []
        self.rejected = 0
        self.port = free_port()
        self.server = None
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server hook
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify_signature(
                    receiver.secret,
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                )
                if ok:
                    receiver.received.append(
                        {"headers": dict(self.headers), "json": json.loads(body)}
                    )
                else:
                    receiver.rejected += 1
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None


@pytest.fixture
def webhook_receiver(app, monkeypatch):
    # A receiver on 127.0.0.1 is internal: the outbound guard lets it through only because
    # the administrator's allow-list names it, as an intranet SOAR would be named.
    monkeypatch.setitem(app.config, "TOLLGATE_OUTBOUND_ALLOW", ["127.0.0.1"])
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
