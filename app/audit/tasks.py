"""Scheduled jobs of the audit domain (run only in the worker process)."""

import logging

from app.extensions import db

log = logging.getLogger(__name__)


def recompute_ratings_job() -> None:
    """Nightly: recompute every trader's rating from the latest history."""
    from app.audit.service import compute_ratings, describe_summary
    from app.security.access import Actor

    try:
        # The evaluation date is today by the clock, never the newest declaration's date.
        summary = compute_ratings(actor=Actor.system("audit-ratings"))
        db.session.commit()
        log.info("%s (%s)", describe_summary(summary), summary)
    except Exception:
        db.session.rollback()
        raise


def retrain_model_job() -> None:
    """Weekly: train a new model version from the history (activation stays a human call)."""
    from app.audit.lifecycle import train_from_history
    from app.core.errors import ValidationError
    from app.security.access import Actor

    try:
        model = train_from_history(actor=Actor.system("audit-retrain"), note="scheduled retraining")
        db.session.commit()
        log.info("trained model v%s: %s", model.version, model.metrics)
    except ValidationError as exc:
        db.session.rollback()
        log.warning("scheduled retraining skipped: %s", exc)
