"""A receiver that fails does not silence the others (one declaration or a batch): the alert
queue being down must not drop another receiver's work, whatever order the receivers are in.
(The screening hits are no receiver's: they are written with the declaration's rows.)"""

from app.core import signals
from tests.risk.factories import body, cond, item, no_random, profile, tree


def _connected_broken_first(calls):
    def broken(sender, **kw):
        raise RuntimeError("alert queue down")

    def recorder(sender, declaration, profile, matched, actor):
        calls.append(declaration.number)

    # blinker calls receivers in the order they were connected: the broken one goes first
    signals.sensitive_profile_hit.connect(broken)
    signals.sensitive_profile_hit.connect(recorder)
    return broken, recorder


def test_a_failing_receiver_does_not_silence_the_next(client, make, db):
    no_random()
    sup = make.user(roles=["supervisor"])
    profile(
        conditions=tree(cond("hs_code", "prefix", ["8517"])),
        channel="red",
        is_sensitive=True,
        recipients={"users": [sup.id]},
    )
    calls = []
    broken, recorder = _connected_broken_first(calls)
    try:
        _, token = make.api_client(["declarations:write"])
        headers = {"Authorization": f"Bearer {token}"}
        one = client.post("/api/v1/declarations", json=body("ISO-1"), headers=headers)
        batch = client.post(
            "/api/v1/declarations",
            json={"declarations": [body("ISO-2", items=[item()]), body("ISO-3")]},
            headers=headers,
        )
    finally:
        signals.sensitive_profile_hit.disconnect(broken)
        signals.sensitive_profile_hit.disconnect(recorder)
    assert one.status_code == 201, one.json
    assert batch.status_code == 201, batch.json
    assert calls == ["ISO-1", "ISO-2", "ISO-3"]
