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

from app.extensions import db

log = logging.getLogger(__name__)


def _dry_run() -> None:
    """One declaration through the service and its API answer, in the caller's transaction
    (rolled back): every statement compiled, the model scored, the signals' receivers and
    the trail's chain imported and run once."""
    import json
    import uuid

    from flask import g

    from app.core.time import now_utc
    from app.reference import service as reference
    from app.risk.api import declaration_json
    from app.risk.assessment import submit_declaration
    from app.security.access import Actor

    offices = reference.entries("office")
    if not offices:
        return
    body = {
        "number": f"WARM-UP-{uuid.uuid4().hex[:12]}",
        "date": now_utc().date().isoformat(),
        "office": offices[0].code,
        "items": [
            {"hs_code": "8517620000", "origin": "CN", "value": 1000.0, "mass": 10.0, "tax_rate": 5}
        ],
    }
    actor = Actor.system("warm-up")
    decl = submit_declaration(body, actor=actor)
    db.session.flush()  # the trail row is chained here, as at the commit
    g.actor = actor  # the answer is rendered for its reader (this app context's g)
    json.dumps(declaration_json(decl))


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
