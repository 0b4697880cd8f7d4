"""Scheduled risk jobs (run by the worker process only)."""

from app.extensions import db


def refresh_peer_medians_job() -> None:
    """Nightly: HS6 median unit values for the 'unit value deviation' field."""
    from app.risk.derived import refresh_peer_medians

    refresh_peer_medians()
    db.session.commit()
