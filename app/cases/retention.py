"""Retention review of cases (app.core.retention): closed cases, reviewed from closing.
Anonymise removes its parties (the persons and companies named); the seizure facts stay for
statistics. Never deleted here. Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete

from app.core.retention import Overdue, RetentionSource, overdue, period, reindex, stored_name
from app.extensions import db


def _cases_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.cases.models import Case

    days = period("CASE")
    closed = (Case.closed_dt.is_not(None), Case.closed_dt < now - days)
    for case in overdue(Case, "case", *closed, order_by=(Case.closed_dt, Case.id), limit=limit):
        yield Overdue(
            str(case.id),
            case.closed_dt + days,
            f"{stored_name(case, case.reference)} · {case.kind} case closed "
            f"{case.closed_dt:%Y-%m-%d} · {len(case.parties)} parties",
        )


def _case_anonymise(record_id: str, actor) -> None:
    from app.cases.models import Case, CaseParty, JournalEntry

    case = db.session.get(Case, int(record_id))
    count = len(case.parties)
    db.session.execute(delete(CaseParty).where(CaseParty.case_id == case.id))
    db.session.add(
        JournalEntry(
            case=case,
            author_id=actor.user_id,
            author_name=actor.username,
            kind="system",
            text=f"Retention review: {count} parties removed (personal data past the "
            "retention period); the reason is in the access trail.",
        )
    )
    db.session.expire(case, ["parties"])
    reindex("case", case.id)


SOURCES = (
    RetentionSource(
        "case",
        "Cases",
        _cases_overdue,
        anonymise=_case_anonymise,
        setting="CASE",
        starts="after closing",
        order=10,
        policy="Anonymise removes the parties (persons and companies named); the seizure facts "
        "stay for statistics. Cases are not deleted here.",
    ),
)
