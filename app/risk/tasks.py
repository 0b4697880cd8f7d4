"""Scheduled risk jobs (run by the worker process only)."""

from app.extensions import db


def refresh_peer_medians_job() -> None:
    """Nightly: HS6 median unit values for the 'unit value deviation' field."""
    from app.risk.derived import refresh_peer_medians

    refresh_peer_medians()
    db.session.commit()


#: a run stops taking new batches after this long, so it ends before the next trigger
LINK_RUN_SECONDS = 8.0


def link_parties_job() -> None:
    """Every few seconds: register the traders of newly submitted declarations, a batch at a
    time (each batch commits), until none is pending or the run has used its time."""
    import time

    from app.risk.assessment import LINK_BATCH, link_pending_parties

    started = time.monotonic()
    while link_pending_parties() == LINK_BATCH:
        if time.monotonic() - started > LINK_RUN_SECONDS:
            break


#: a run of the screening hits job stops taking new batches after this long
SCREENING_RUN_SECONDS = 4.0


def screening_hits_job() -> None:
    """Every few seconds: write the screening hits of newly assessed declarations (their
    assessments hold the matches), a batch at a time (each batch commits)."""
    import time

    from app.risk.assessment import SCREENING_BATCH, record_pending_screening

    started = time.monotonic()
    while record_pending_screening() == SCREENING_BATCH:
        if time.monotonic() - started > SCREENING_RUN_SECONDS:
            break
