"""The retention sources of the record types that hold personal data or intelligence (issue
17): cases, intelligence reports, registry entities, declarations and open-source articles.

Each source lives with the domain that owns its records (``app/<domain>/retention.py``, on
the ``app.core.retention`` extension point) so no domain reads another's tables; this module
registers them in the order the administrator's page lists them. Each names its review
period's setting (``TOLLGATE_RETENTION_<TYPE>_DAYS``, app/config.py), what starts the period,
and what a reviewer may do besides keeping the record (its policy). A record anonymised or
deleted by a decision is not listed again (``not_decided``, the filter registered below).
"""

from sqlalchemy import String, cast, select

from app.core.retention import set_decided_filter
from app.ops.models import ReviewItem


def _not_decided(record_type: str, id_column):
    """Records not already anonymised or deleted by a review decision."""
    done = select(ReviewItem.record_id).where(
        ReviewItem.record_type == record_type,
        ReviewItem.status.in_(("anonymised", "deleted")),
    )
    return cast(id_column, String).not_in(done)


def register(app) -> None:
    """The decided-records filter, then each domain's sources."""
    from app.cases import retention as cases
    from app.intel import retention as intel
    from app.risk import retention as risk
    from app.textmining import retention as textmining

    set_decided_filter(app, _not_decided)
    for domain in (cases, intel, risk, textmining):
        domain.register(app)
