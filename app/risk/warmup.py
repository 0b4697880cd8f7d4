"""No cold start (issue 22): a web worker readies the declaration path before it takes its
first request, and rebuilds its engine beside the one it serves after a profile change.

``warm_up`` (registered with ``app.core.registry.add_warm_up``, run by ``app.wsgi`` in each
gunicorn worker) compiles the engine, loads the peer medians, and submits a made-up
declaration through the service in a transaction it rolls back: the active ML model (and
LightGBM with it) is loaded and every statement of the path compiled; nothing is kept.
The first declaration of a fresh worker was 1.2-4 s (the model, LightGBM's import and 500
profiles compiled on the spot), 200x the median.
"""

import logging
import time
import uuid

from app.core.time import now_utc
from app.extensions import db

log = logging.getLogger(__name__)


def _dry_run() -> None:
    """One declaration through the service and its API answer, in the caller's transaction
    (rolled back): every statement compiled, the model scored, the signals' receivers and
    the trail's chain imported and run once."""
    import json

    from flask import g

    from app.reference import service as reference
    from app.risk.api import declaration_json
    from app.risk.assessment import submit_declaration
    from app.security.access import Actor

    offices = reference.entries("office")
    if not offices:
        return
    modes = reference.entries("transport_mode")
    # shaped like the declarations that come: a mode of transport and an importer (the code
    # check asks those lists; the rating is looked up), two items from two countries (the
    # items' multi-row INSERT)
    item = {"hs_code": "8517620000", "origin": "CN", "departure": "VN", "value": 1000.0,
            "mass": 10.0, "tax_rate": 5}  # fmt: skip
    body = {
        "number": f"WARM-UP-{uuid.uuid4().hex[:12]}",
        "date": now_utc().date().isoformat(),
        "office": offices[0].code,
        "importer": "WARM-UP",
        "declarant": "WARM-UP",
        "seller": "WARM-UP",
        "items": [item, {**item, "hs_code": "6403990000", "origin": "VN"}],
    }
    if modes:
        body["transport_mode"] = modes[0].code
    actor = Actor.system("warm-up")
    decl = submit_declaration(body, actor=actor)
    _warm_api_statements(decl.id)
    _warm_code_checks()
    db.session.flush()  # the trail row is chained here, as at the commit
    g.actor = actor  # the answer is rendered for its reader (this app context's g)
    json.dumps(declaration_json(decl))


def _warm_code_checks() -> None:
    """The code check's statement for each set of lists a declaration may ask (its
    statement is one per set: a procedure or a tax type makes another)."""
    from itertools import combinations

    from app.reference import service as reference

    optional = ("procedure", "tax_type", "transport_mode")
    for n in range(len(optional) + 1):
        for extra in combinations(optional, n):
            reference.lookup_many({name: {"WARM-UP"} for name in ("country", "office", *extra)})


def _warm_api_statements(declaration_id: int) -> None:
    """The statements a declaration from the API runs that the service's dry run does not:
    the token look-up, the client's last-used time, a profile hit's row (compiled on the first
    request they cost it 3-5 ms; all of it rolled back with the dry run). The last-used UPDATE
    matches no row: a real client's row locked here would wait on the requests that hold it."""
    from sqlalchemy import select

    from app.risk import bulk
    from app.risk.models import ProfileHit, RiskProfile
    from app.security import service as security

    security.client_for_token("tg_warmup_x")  # no client has this prefix
    # the last-used time's UPDATE (written after a request), on no client's row
    db.session.execute(security.client_touch_statement(-1, now_utc()))
    hit = db.session.scalar(select(ProfileHit.id).filter_by(declaration_id=declaration_id))
    profile_id = db.session.scalar(select(RiskProfile.id).limit(1))
    if hit is None and profile_id is not None:  # (a hit of the dry run compiled it already)
        bulk.warm_hit_insert(profile_id, declaration_id)


def warm_up(app) -> None:
    """Compile and load what the first declaration needs; log and go on if anything fails
    (a worker that starts cold is better than one that does not start)."""
    from app.core.openapi import unknown_body_fields
    from app.risk import engine as engine_mod
    from app.risk.derived import cached_peer_medians

    started = time.perf_counter()
    with app.app_context():
        try:
            engine_mod.get_engine()
            cached_peer_medians()
            # Routing and the API's body allow-list are built lazily on the first request.
            app.url_map.bind("localhost").match("/api/v1/declarations", method="POST")
            unknown_body_fields(app, "POST", "/api/v1/declarations", {})
            _dry_run()
        except Exception:
            log.exception("warming the declaration path up failed; the first request will")
        finally:
            db.session.rollback()
            db.session.remove()
    engine_mod.rebuild_in_background(True)
    log.info("declaration path warm in %.0f ms", (time.perf_counter() - started) * 1000)
