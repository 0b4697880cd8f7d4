"""Helpers for bulk loaders (demo data, imports): signals and trail rows for many records.

The per-record services send each signal in a savepoint of its own and flush around every
record; a loader writing thousands of records sends them here in one savepoint instead,
without an autoflush before every receiver's query.
"""

import logging

from app.core import signals
from app.extensions import db

log = logging.getLogger(__name__)


def send_each(signal, kwargs_list) -> bool:
    """Send ``signal`` once per kwargs dict, all in one savepoint.

    Receivers must not fail the loader's records: if one raises, everything the receivers
    wrote in this call is rolled back and logged (the records themselves stand), as the
    services' ``_send_safely`` does per record. Returns False when that happened.
    """
    if not signal.receivers or not kwargs_list:
        return True
    try:
        with db.session.begin_nested(), db.session.no_autoflush:
            for kwargs in kwargs_list:
                signal.send(None, **kwargs)
    except Exception:
        log.exception(
            "a receiver of %s failed during a bulk load; its writes are undone", signal.name
        )
        return False
    return True


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
