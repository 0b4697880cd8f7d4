"""Correcting and ending links: each change keeps the earlier reading as a LinkVersion
(corrections are new versions, never overwrites), needs a reason and is trailed."""

from sqlalchemy import func, select

from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.intel import grading, service
from app.intel.models import LINK_TYPES, Link, LinkVersion
from app.security import trail
from app.security.access import Actor, NotFound

_UNSET = object()


def visible_link(link_id, *, actor: Actor) -> Link:
    """A link the actor may see (the link and both its ends), else NotFound (404)."""
    link = db.session.scalar(service.link_query(actor).where(Link.id == link_id))
    if link is None:
        raise NotFound()
    return link


def versions_of(link: Link) -> list[LinkVersion]:
    return list(
        db.session.scalars(
            select(LinkVersion).where(LinkVersion.link_id == link.id).order_by(LinkVersion.version)
        )
    )


def update_link(
    link_id,
    *,
    actor: Actor,
    reason,
    link_type=_UNSET,
    start_date=_UNSET,
    end_date=_UNSET,
    grade=_UNSET,
) -> Link:
    """Correct a link's type, dates or grade; the reading before is kept as a version."""
    actor.require("entity.edit")
    link = visible_link(link_id, actor=actor)
    lock_rows(Link, link.id)
    reason = " ".join(str(reason or "").split())
    errors = {}
    if not reason:
        errors["reason"] = "say why the link changes"
    new_type = link.link_type if link_type is _UNSET else link_type
    if new_type not in LINK_TYPES:
        errors["link_type"] = f"must be one of {', '.join(LINK_TYPES)}"
    try:
        start = (
            link.start_date
            if start_date is _UNSET
            else service._check_date(start_date, "start_date")
        )
        end = link.end_date if end_date is _UNSET else service._check_date(end_date, "end_date")
        new_grade = link.grade if grade is _UNSET else grading.parse_link_grade(grade)
    except ValidationError as exc:
        raise ValidationError({**errors, **exc.fields}) from None
    if start and end and end < start:
        errors["end_date"] = "is before the start date"
    if errors:
        raise ValidationError(errors)
    before = (link.link_type, link.start_date, link.end_date, link.grade)
    if before == (new_type, start, end, new_grade):
        raise ValidationError({"reason": "nothing changes: the link already reads so"})
    number = db.session.scalar(
        select(func.count()).select_from(LinkVersion).where(LinkVersion.link_id == link.id)
    )
    db.session.add(
        LinkVersion(
            link_id=link.id,
            version=number + 1,
            link_type=link.link_type,
            start_date=link.start_date,
            end_date=link.end_date,
            grade=link.grade,
            reason=reason[:2000],
            changed_by_id=actor.user_id,
        )
    )
    link.link_type, link.start_date, link.end_date, link.grade = new_type, start, end, new_grade
    db.session.flush()
    trail.record(actor, "update", "link", link.id, details={"version": number + 2})
    return link


def end_link(link_id, *, actor: Actor, reason, end_date=None) -> Link:
    """End a link (soft: it stays, dated): ``end_date`` or today (UTC, from the clock)."""
    return update_link(link_id, actor=actor, reason=reason, end_date=end_date or now_utc().date())
