"""The retention-review extension point (LED 2016/680 Art. 5): a domain declares each kind of
record it keeps personal data or intelligence in as a ``RetentionSource`` in its own
``app/<domain>/retention.py`` (``SOURCES``) and registers them in its ``init_app`` with
``register_sources(app, SOURCES)``; the operations domain (``app.ops.retention``) queues
overdue records and applies reviewers' decisions, importing no domain.

One mechanism for every source: its review period is the setting
``TOLLGATE_RETENTION_<setting>_DAYS`` (declared once, with its default, in app/config.py);
``overdue(model, record_type, *conditions, ...)`` selects the records past it that no review
decision anonymised or deleted (``not_decided``, the filter operations registers);
``stored_name`` names a record in a summary kept for nobody in particular; ``reindex`` asks
search to re-read a changed record.
"""

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, true

from app.core import signals
from app.extensions import db


@dataclass(frozen=True)
class Overdue:
    """One overdue record as a source reports it."""

    record_id: str
    due_dt: datetime
    summary: str = ""


@dataclass(frozen=True)
class RetentionSource:
    """A kind of record with review dates.

    ``list_overdue(now, limit)`` yields ``Overdue`` records whose review date is before ``now``.
    ``anonymise(record_id, actor)`` / ``delete(record_id, actor)`` apply a decision (flush,
    never commit, write no trail row: ``app.ops.retention.decide`` writes the one row); None
    means the decision is not allowed for this kind of record. An anonymised record must stop
    being listed as overdue (clear or move its review date). ``set_review_date(record_id,
    when, actor)`` stores a new review date on the record; when None, a "keep" decision holds
    the record out of the queue until ``when``.
    """

    record_type: str
    label: str
    list_overdue: Callable[[datetime, int], Iterable[Overdue]]
    anonymise: Callable | None = None
    delete: Callable | None = None
    set_review_date: Callable | None = None
    #: shown on the administrator page: what a reviewer's decisions do, and why
    policy: str = ""
    #: ``TOLLGATE_RETENTION_<setting>_DAYS``, the review period (None: the source's own rule)
    setting: str | None = None
    #: what starts the period ("after closing")
    starts: str = ""
    #: where the administrator page lists it
    order: int = 100

    def allows(self, decision: str) -> bool:
        if decision == "keep":
            return True
        return getattr(self, decision) is not None


def setting_name(setting: str) -> str:
    return f"TOLLGATE_RETENTION_{setting}_DAYS"


def add_retention_source(app, source: RetentionSource) -> None:
    app.extensions.setdefault("tollgate_retention", {})[source.record_type] = source


def register_sources(app, sources: Iterable[RetentionSource]) -> None:
    """Register a domain's sources, each policy prefixed with its period as configured."""
    for source in sources:
        if source.setting is not None:
            name = setting_name(source.setting)
            days = int(app.config[name])
            said = f"Reviewed {days} days {source.starts} ({name}). {source.policy}"
            source = dataclasses.replace(source, policy=said)
        add_retention_source(app, source)


def retention_sources(app) -> list[RetentionSource]:
    """The registered sources in the administrator page's order."""
    sources = app.extensions.get("tollgate_retention", {}).values()
    return sorted(sources, key=lambda s: (s.order, s.record_type))


def set_decided_filter(app, clause: Callable) -> None:
    """Operations registers ``clause(record_type, id_column)``: a SQL condition true for the
    records no review decision anonymised or deleted."""
    app.extensions["tollgate_retention_not_decided"] = clause


def not_decided(record_type: str, id_column):
    """The registered filter (every record when operations is not installed)."""
    clause = current_app.extensions.get("tollgate_retention_not_decided")
    return true() if clause is None else clause(record_type, id_column)


def period(setting: str) -> timedelta:
    """A source's review period, ``TOLLGATE_RETENTION_<setting>_DAYS`` (app/config.py)."""
    return timedelta(days=int(current_app.config[setting_name(setting)]))


def overdue(model, record_type: str, *conditions, order_by, limit: int):
    """The records of ``model`` meeting ``conditions`` that no review decision anonymised or
    deleted, oldest first (``order_by``), at most ``limit``."""
    stmt = (
        select(model)
        .where(*conditions, not_decided(record_type, model.id))
        .order_by(*order_by)
        .limit(limit)
    )
    return db.session.scalars(stmt)


def stored_name(record, label: str) -> str:
    """The summary is stored for nobody in particular (the seam rule, app.security.seams):
    a handling-code-C record is described ("a restricted record of <unit>"), never named."""
    from app.security.seams import restricted_label

    return restricted_label(record) if record.handling_code == "C" else label


def reindex(record_type: str, record_id) -> None:
    signals.search_index_requested.send(None, record_type=record_type, record_id=int(record_id))
