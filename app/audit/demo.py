"""Demo data of the audit domain: ratings and a first model from the demo history."""

import logging
import os

from app.core.errors import ValidationError

log = logging.getLogger(__name__)


def load_audit_demo(options) -> None:
    """Rate every trader and, when the history allows, train and activate a model."""
    from app.audit import lifecycle, service
    from app.security.access import Actor

    # LightGBM trains with two OpenMP threads whose default spin-waiting makes training
    # several times slower when the two cores are busy with anything else (measured 2 s
    # quiet, 5-26 s busy). The OpenMP runtime reads this once, when lightgbm is first
    # imported (in train_model, below); an explicit setting by the user wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")

    actor = Actor.system("demo")
    if lifecycle.active_model() is None:
        try:
            model = lifecycle.train_from_history(actor=actor, note="demo model")
        except ValidationError as exc:
            log.warning("demo: no ML model trained (%s)", exc)
        else:
            lifecycle.activate_model(model.version, actor=actor)
    service.compute_ratings(actor=actor)
