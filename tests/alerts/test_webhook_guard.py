"""Webhooks and the outbound guard (issue 16, item 5): an internal address is refused when
the webhook is saved (form and service) and again when the worker sends, without connecting
- so the worker cannot be turned into a port scanner - unless the administrator's
allow-list names the receiver."""

import pytest
from sqlalchemy import select

from app.alerts import delivery, service
from app.alerts.models import Delivery, Webhook
from app.core.errors import ValidationError
from tests.alerts.conftest import WEBHOOK_SECRET
from tests.alerts.factories import raise_specimen_alert, webhook
from tests.fake_dns import CountingListener, fake_dns

PUBLIC = "93.184.215.14"


@pytest.fixture
def listener():
    """Something listening on an internal port: a connection to it would be counted."""
    sock = CountingListener()
    yield sock
    sock.close()


@pytest.fixture
def dns(monkeypatch):
    return fake_dns(
        monkeypatch,
        {
            "hooks.example": PUBLIC,
            "intranet.example": "127.0.0.1",
            "split.example": [PUBLIC, "10.0.0.7"],  # one private answer is enough to refuse
        },
    )


INTERNAL_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://10.1.2.3/hook",
    "http://192.168.1.20:9000/in",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::1]:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0:25/",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://localhost:5000/admin",
    "http://intranet.example/hook",  # a name resolving to loopback
    "http://split.example/hook",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_webhook_addresses_are_refused_on_save(make, db, dns, url):
    sup = make.actor(make.user(roles=["supervisor"]))
    with pytest.raises(ValidationError) as err:
        service.add_webhook(sup, name="ops", url=url)
    assert set(err.value.fields) == {"url"}
    assert "is not allowed" in err.value.fields["url"]
    assert "TOLLGATE_OUTBOUND_ALLOW" in err.value.fields["url"]
    assert db.session.scalar(select(Webhook.id)) is None


def test_the_refusal_names_what_the_address_is(make, db, dns):
    sup = make.actor(make.user(roles=["supervisor"]))
    for url, kind in [
        ("http://169.254.169.254/", "cloud metadata"),
        ("http://intranet.example/", "intranet.example resolves to the non-public address "),
        ("http://10.0.0.1/", "private"),
    ]:
        with pytest.raises(ValidationError, match=kind):
            service.add_webhook(sup, name="ops", url=url)


def test_the_form_shows_the_refusal_and_stores_nothing(client, make, db, dns):
    make.sign_in(client, make.user(roles=["supervisor"]))
    resp = client.post(
        "/alerts/webhooks",
        data={"name": "metadata", "url": "http://169.254.169.254/latest", "min_severity": "high"},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "url: is not allowed" in html and "cloud metadata" in html
    assert db.session.scalar(select(Webhook.id)) is None
    resp = client.post(
        "/alerts/webhooks",
        data={"name": "SOAR", "url": "https://hooks.example/in", "min_severity": "high"},
    )
    hook = db.session.scalar(select(Webhook))
    assert hook.url == "https://hooks.example/in" and hook.secret in resp.get_data(as_text=True)


def test_an_allow_listed_internal_receiver_is_saved_and_receives(
    make, db, specimens, webhook_receiver, smtp
):
    # webhook_receiver puts 127.0.0.1 on TOLLGATE_OUTBOUND_ALLOW, as an administrator would.
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    sup = make.actor(user)
    service.add_webhook(
        sup, name="SOAR", url=webhook_receiver.url, min_severity="low", secret=WEBHOOK_SECRET
    )
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()
    delivery.deliver_due()
    assert len(webhook_receiver.received) == 1
    row = db.session.scalar(select(Delivery).where(Delivery.channel == "webhook"))
    assert row.status == "sent"


def _hook_delivery(make, db, specimens, url):
    """A webhook saved before the guard (or whose name now resolves elsewhere), one alert."""
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    webhook(unit, url, WEBHOOK_SECRET)
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()


def _hook_row(db):
    db.session.rollback()
    return db.session.scalar(select(Delivery).where(Delivery.channel == "webhook"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://intranet.example:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://10.11.12.13:{port}/hook",
        "http://169.254.169.254:{port}/latest/meta-data/",
    ],
)
def test_the_worker_refuses_an_internal_address_without_connecting(
    make, db, specimens, smtp, dns, listener, url
):
    _hook_delivery(make, db, specimens, url.format(port=listener.port))
    counts = delivery.deliver_due()
    row = _hook_row(db)
    assert listener.accepted == 0  # not even a TCP handshake
    assert row.status == "failed" and row.attempts == 1  # no retry can make it allowed
    assert row.last_error.startswith("address not allowed: ")
    assert counts["failed"] == 1


def test_a_refused_address_looks_the_same_whether_or_not_something_listens(
    make, db, specimens, smtp, listener
):
    """No port scanning: an open and a closed internal port give the very same record."""
    closed = CountingListener()
    closed.close()  # nothing listens here any more
    _hook_delivery(make, db, specimens, f"http://127.0.0.1:{listener.port}/hook")
    _hook_delivery(make, db, specimens, f"http://127.0.0.1:{closed.port}/hook")
    delivery.deliver_due()
    db.session.rollback()
    rows = db.session.scalars(
        select(Delivery).where(Delivery.channel == "webhook").order_by(Delivery.id)
    ).all()
    assert [r.status for r in rows] == ["failed", "failed"]
    assert rows[0].last_error == rows[1].last_error
    assert "Connection refused" not in rows[1].last_error
    assert listener.accepted == 0


def test_dns_rebinding_after_the_save_is_caught_at_send(make, db, specimens, smtp, dns, listener):
    """Saved while the name pointed at a public address, sent after it turned internal."""
    dns["flip.example"] = PUBLIC
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    hook = service.add_webhook(
        make.actor(user),
        name="SOAR",
        url=f"http://flip.example:{listener.port}/",
        min_severity="low",
    )
    assert hook.id
    dns["flip.example"] = "10.0.0.5"  # the attacker's DNS now answers with an internal address
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()
    delivery.deliver_due()
    row = _hook_row(db)
    assert row.status == "failed" and row.last_error.startswith("address not allowed: ")
    assert "10.0.0.5" in row.last_error and listener.accepted == 0


def test_the_post_goes_to_the_checked_address_with_the_name_as_host(
    make, db, specimens, smtp, dns, webhook_receiver, monkeypatch
):
    """The connection is made to the address that was checked; the name is only the Host
    header: a second lookup (which an attacker could answer differently) never happens."""
    dns["soar.customs.example"] = "127.0.0.1"
    lookups = []
    real = __import__("socket").getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr("socket.getaddrinfo", counting)
    _hook_delivery(make, db, specimens, f"http://soar.customs.example:{webhook_receiver.port}/hook")
    delivery.deliver_due()
    assert _hook_row(db).status == "sent"
    [got] = webhook_receiver.received
    assert got["headers"]["Host"] == f"soar.customs.example:{webhook_receiver.port}"
    assert lookups.count("soar.customs.example") == 1
