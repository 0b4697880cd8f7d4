"""The retention-review extension point (LED 2016/680 Art. 5): a domain describes each kind of
record it keeps personal data or intelligence in as a ``RetentionSource`` and registers it with
``add_retention_source(app, source)``; the operations domain (``app.ops.retention``) queues
overdue records and applies reviewers' decisions.

Sources live in the domain that owns the records (``app/<domain>/retention.py``), so no domain
reads another's tables. Two things they need from operations come through here:
``not_decided`` (records a review already anonymised or deleted are not listed again) and
``stored_name`` (a summary kept for nobody in particular names no restricted record).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import true

from app.core import signals


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
    never commit); None means the decision is not allowed for this kind of record. An
    anonymised record must stop being listed as overdue (clear or move its review date).
    ``set_review_date(record_id, when, actor)`` stores a new review date on the record; when
    None, a "keep" decision holds the record out of the queue until ``when``.
    """

    record_type: str
    label: str
    list_overdue: Callable[[datetime, int], Iterable[Overdue]]
    anonymise: Callable | None = None
    delete: Callable | None = None
    set_review_date: Callable | None = None
    #: shown on the administrator page: how long, and why
    policy: str = ""

    def allows(self, decision: str) -> bool:
        if decision == "keep":
            return True
        return getattr(self, decision) is not None


def add_retention_source(app, source: RetentionSource) -> None:
    app.extensions.setdefault("tollgate_retention", {})[source.record_type] = source


def retention_sources(app) -> list[RetentionSource]:
    return list(app.extensions.get("tollgate_retention", {}).values())


def set_decided_filter(app, clause: Callable) -> None:
    """Operations registers ``clause(record_type, id_column)``: a SQL condition true for the
    records no review decision anonymised or deleted."""
    app.extensions["tollgate_retention_not_decided"] = clause


def not_decided(record_type: str, id_column):
    """The registered filter (every record when operations is not installed)."""
    clause = current_app.extensions.get("tollgate_retention_not_decided")
    return true() if clause is None else clause(record_type, id_column)


def period_days(setting: str, default: int) -> int:
    """A source's review period, ``TOLLGATE_RETENTION_<setting>_DAYS`` (app/config.py)."""
    return int(current_app.config.get(f"TOLLGATE_RETENTION_{setting}_DAYS", default) or default)


def stored_name(record, label: str) -> str:
    """The summary is stored for nobody in particular (the seam rule, app.security.seams):
    a handling-code-C record is described ("a restricted record of <unit>"), never named."""
    from app.security.seams import restricted_label

    return restricted_label(record) if record.handling_code == "C" else label


def reindex(record_type: str, record_id) -> None:
    signals.search_index_requested.send(None, record_type=record_type, record_id=int(record_id))


def register_sources(app, rows) -> None:
    """Register ``rows`` of (record type, label, setting, default days, what starts the period,
    functions, policy) with their periods from the configuration."""
    for record_type, label, setting, default, start, functions, policy in rows:
        days = int(app.config.get(f"TOLLGATE_RETENTION_{setting}_DAYS", default) or default)
        add_retention_source(
            app,
            RetentionSource(
                record_type=record_type,
                label=label,
                policy=f"Reviewed {days} days {start} (TOLLGATE_RETENTION_{setting}_DAYS). "
                + policy,
                **functions,
            ),
        )
