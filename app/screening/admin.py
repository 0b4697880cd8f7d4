"""What the administrator pages and the CLI show of the lists, and the settings they change."""

from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.extensions import db
from app.screening.models import ScreeningEntry, ScreeningList, ScreeningListVersion
from app.security import trail


def lists() -> list[dict]:
    # the current versions' rows: a version being loaded writes its own beside them
    sizes = dict(
        db.session.execute(
            select(ScreeningEntry.list_id, func.count())
            .join(ScreeningList, ScreeningList.current_version_id == ScreeningEntry.version_id)
            .group_by(ScreeningEntry.list_id)
        ).all()
    )
    out = []
    for lst in db.session.scalars(select(ScreeningList).order_by(ScreeningList.name)):
        version = db.session.get(ScreeningListVersion, lst.current_version_id or 0)
        out.append(
            {
                "id": lst.id,
                "name": lst.name,
                "source": lst.source,
                "sensitivity": lst.sensitivity,
                "threshold": lst.threshold,
                "is_active": lst.is_active,
                "version_date": version.version_date.isoformat() if version else None,
                "version_id": version.id if version else None,
                "entries": sizes.get(lst.id, 0),
            }
        )
    return out


def get_list(list_id: int) -> ScreeningList | None:
    return db.session.get(ScreeningList, list_id)


def versions(list_id: int) -> list[ScreeningListVersion]:
    return list(
        db.session.scalars(
            select(ScreeningListVersion)
            .where(ScreeningListVersion.list_id == list_id)
            .order_by(ScreeningListVersion.id.desc())
        )
    )


def get_version(version_id: int) -> ScreeningListVersion | None:
    return db.session.get(ScreeningListVersion, version_id)


def update_settings(list_id: int, *, threshold: float, is_active: bool, actor) -> ScreeningList:
    """Change a list's threshold and whether it is screened against. Flushes, trails."""
    actor.require("admin.reference")
    lst = db.session.get(ScreeningList, list_id)
    if lst is None:
        raise ValidationError({"list": "no such list"})
    if not 0.0 < threshold <= 1.0:
        raise ValidationError({"threshold": "a score between 0 and 1"})
    before = {"threshold": lst.threshold, "is_active": lst.is_active}
    lst.threshold, lst.is_active = threshold, is_active
    db.session.flush()
    trail.record(
        actor, "update", "screening_list", lst.id,
        details={"before": before, "after": {"threshold": threshold, "is_active": is_active}},
    )  # fmt: skip
    return lst
