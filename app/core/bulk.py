"""Helpers for bulk loaders (demo data, imports): signals and trail rows for many records.

The per-record services send each signal in a savepoint of its own and flush around every
record; a loader writing thousands of records sends them here in one savepoint instead,
without an autoflush before every receiver's query.
"""

import logging
from contextlib import nullcontext

from app.core import signals
from app.extensions import db

log = logging.getLogger(__name__)


def send_each(signal, kwargs_list, *, autoflush: bool = False) -> bool:
    """Send ``signal`` once per kwargs dict; each receiver in a savepoint of its own.

    Receivers must not fail the records: if one raises, what that receiver wrote in this call
    is rolled back and logged (the records and the other receivers' work stand). One failing
    receiver (an alert queue that is down) must not silence another (the screening hits),
    whatever order the signal keeps its receivers in. Returns False when one failed.
    """
    if not signal.receivers or not kwargs_list:
        return True
    ok = True
    for receiver in list(signal.receivers_for(None)):
        try:
            with db.session.begin_nested(), _autoflush(autoflush):
                for kwargs in kwargs_list:
                    receiver(None, **kwargs)
        except Exception:
            ok = False
            log.exception("a receiver of %s failed; its writes are undone", signal.name)
    return ok


def send_safely(signal, **kwargs) -> bool:
    """``send_each`` for one record: the services' way to send a signal after a write."""
    return send_each(signal, [kwargs], autoflush=True)


def _autoflush(on: bool):
    # a batch's receivers read what the batch flushed; one record's may read what they add
    return nullcontext() if on else db.session.no_autoflush


def request_index_many(record_type: str, record_ids) -> None:
    """``search_index_requested`` for each record: queued for the index in this transaction
    (the worker's search job or ``tollgate search apply`` writes the index)."""
    send_each(
        signals.search_index_requested,
        [{"record_type": record_type, "record_id": int(i)} for i in record_ids],
    )


def trail_many(actor, action: str, record_type: str, record_ids) -> None:
    """One access-trail row per record, as the services write them (chained at the next
    flush by ``app.security.trail``)."""
    from app.security import trail

    for record_id in record_ids:
        trail.record(actor, action, record_type, record_id)
