"""Record shares: a code-C record of one unit opened to another unit or to one user.

The rules (modelled on nCEN's and MISP's sharing groups, with originator control):

* Only code-C records of the record types in ``SHAREABLE`` are shared; code P records are
  already open to every role that may view them.
* Only the owning unit shares (originator control): someone who sees a record through a
  share cannot pass it on. The sharer must see the record and hold ``record.share``.
* A share names one unit (every member of it) or one user of another unit, says why the
  recipient needs the record (``reason``), and ends (``expires_dt``, at most
  ``MAX_SHARE_DAYS`` ahead). It carries the record's handling conditions as they were when
  it was made; the recipient sees them with the record.
* Revocation is soft (``revoked_dt``, ``revoked_by``): rows are never deleted, and sharing
  again adds a new row, so the history of who could open the record stays.
* The trail: a share is a ``disclose`` row, a revocation and an expiry an ``update`` row of
  the record (``details.share_id``), each with the share's reason as justification; opening
  the record through a share writes the ``view`` row with ``details.via_share``
  (``app.security.access.get_for``).
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from app.core.errors import ValidationError
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.security import trail
from app.security.access import AccessDenied, Actor, NotFound, Restricted, get_for
from app.security.models import RecordShare, Unit, User

#: record type -> the permission needed to see it
SHAREABLE = {"case": "case.view", "entity": "entity.view", "report": "intel.view"}
MAX_SHARE_DAYS = 366
MAX_REASON = 2000


def model_for(record_type: str):
    """The restricted model whose ``__record_type__`` is ``record_type`` (if shareable)."""
    if record_type not in SHAREABLE:
        raise ValidationError({"record_type": f"must be one of: {', '.join(SHAREABLE)}"})
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Restricted) and cls.__record_type__ == record_type:
            return cls
    raise ValidationError({"record_type": f"{record_type} records are not installed"})


def load_record(record_type: str, record_id, *, actor: Actor, log: bool = False):
    """The record, if ``actor`` may see it; else NotFound (trailed as denied)."""
    model = model_for(record_type)
    return get_for(
        actor, model, record_id, permission=SHAREABLE[record_type], action="view", log=log
    )


def status(share: RecordShare, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if share.revoked_dt is not None:
        return "revoked"
    if share.expires_dt is not None and as_utc(share.expires_dt) <= (now or now_utc()):
        return "expired"
    return "active"


def parse_expiry(value, field: str = "expires_dt") -> datetime:
    """An end instant: a datetime with its UTC offset (ISO 8601), or a date, meaning the end
    of that day in UTC. A time without an offset is refused rather than guessed."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                {field: "must be a date (YYYY-MM-DD) or a date and time with its UTC offset"}
            ) from None
    else:
        raise ValidationError({field: "is required: a share ends"})
    if parsed.tzinfo is None:
        raise ValidationError({field: "give the UTC offset (e.g. 2027-01-31T18:00:00+00:00)"})
    return parsed.astimezone(UTC)


def _check_expiry(value, field: str) -> datetime:
    expires = parse_expiry(value, field)
    now = now_utc()
    if expires <= now:
        raise ValidationError({field: "must be in the future"})
    if expires > now + timedelta(days=MAX_SHARE_DAYS):
        raise ValidationError({field: f"at most {MAX_SHARE_DAYS} days ahead"})
    return expires


def _check_reason(reason, field: str = "reason") -> str:
    text = str(reason or "").strip()
    if not text:
        raise ValidationError({field: "say why the recipient needs the record"})
    if len(text) > MAX_REASON:
        raise ValidationError({field: f"at most {MAX_REASON} characters"})
    return text


def _recipient(record, unit_id, user_id) -> tuple[Unit | None, User | None]:
    if (unit_id is None) == (user_id is None):
        raise ValidationError({"recipient": "name either a unit or a user"})
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None or not unit.is_active:
            raise ValidationError({"unit_id": "no such unit"})
        if unit.id == record.unit_id:
            raise ValidationError({"unit_id": "the owning unit sees its records already"})
        return unit, None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationError({"user_id": "no such user"})
    if user.unit_id == record.unit_id:
        raise ValidationError({"user_id": "users of the owning unit see its records already"})
    return None, user


def _check_may_share(record, actor: Actor) -> None:
    actor.require("record.share")
    if record.handling_code != "C":
        raise ValidationError(
            {"record": "code P records are open to every unit already; only code C is shared"}
        )
    if actor.unit_id is None or actor.unit_id != record.unit_id:
        raise AccessDenied("Only the unit that owns a code-C record shares it or ends a share.")


def current_shares(record_type: str, record_id: int, *, unit_id=None, user_id=None):
    stmt = select(RecordShare).where(
        RecordShare.record_type == record_type,
        RecordShare.record_id == record_id,
        RecordShare.revoked_dt.is_(None),
        or_(RecordShare.expires_dt.is_(None), RecordShare.expires_dt > now_utc()),
    )
    if unit_id is not None:
        stmt = stmt.where(RecordShare.unit_id == unit_id)
    if user_id is not None:
        stmt = stmt.where(RecordShare.user_id == user_id)
    return list(db.session.scalars(stmt))


def create_share(
    record_type: str,
    record_id,
    *,
    actor: Actor,
    reason,
    expires,
    unit_id=None,
    user_id=None,
    trail_details: dict | None = None,
) -> RecordShare:
    """Share a code-C record of the actor's unit with a unit or a user; trailed as a
    disclosure of the record with the reason as justification."""
    actor.require("record.share")
    record = load_record(record_type, record_id, actor=actor)
    _check_may_share(record, actor)
    errors = {}
    try:
        reason = _check_reason(reason)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        expires = _check_expiry(expires, "expires_dt")
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        unit, user = _recipient(record, unit_id, user_id)
    except ValidationError as exc:
        errors.update(exc.fields)
        unit = user = None
    if not errors and current_shares(
        record_type,
        record.id,
        unit_id=unit.id if unit else None,
        user_id=user.id if user else None,
    ):
        errors["unit_id" if unit else "user_id"] = "already shared: revoke that share first"
    if errors:
        raise ValidationError(errors)
    share = RecordShare(
        record_type=record_type,
        record_id=record.id,
        unit_id=unit.id if unit else None,
        user_id=user.id if user else None,
        reason=reason,
        expires_dt=expires,
        conditions=record.handling_conditions,
        created_by_id=actor.user_id,
        created_by=actor.username,
    )
    db.session.add(share)
    db.session.flush()
    recipient = {"unit": unit.code} if unit else {"user": user.username}
    trail.record(
        actor,
        "disclose",
        record_type,
        record.id,
        justification=reason,
        details={
            "share_id": share.id,
            **recipient,
            "expires": expires.isoformat(),
            **(trail_details or {}),
        },
    )
    return share


def get_share(share_id, *, actor: Actor, lock: bool = False) -> tuple[RecordShare, object]:
    """A share and its record, if ``actor`` may see the record; NotFound otherwise."""
    stmt = select(RecordShare).where(RecordShare.id == share_id)
    if lock:
        stmt = stmt.with_for_update()
    share = db.session.scalars(stmt).first() if share_id else None
    if share is None:
        raise NotFound()
    record = load_record(share.record_type, share.record_id, actor=actor)
    # A recipient sees the shares that name it, nobody else's.
    names_actor = (share.unit_id is not None and share.unit_id == actor.unit_id) or (
        share.user_id is not None and share.user_id == actor.user_id
    )
    if not actor.is_system and actor.unit_id != record.unit_id and not names_actor:
        raise NotFound()
    return share, record


def revoke_share(share_id, *, actor: Actor, reason=None) -> RecordShare:
    """End a share now. The row stays (revoked_dt, revoked_by); trailed as an update of the
    record, justified by the reason given (else the share's own reason)."""
    actor.require("record.share")
    share, record = get_share(share_id, actor=actor, lock=True)
    _check_may_share(record, actor)
    state = status(share)
    if state != "active":
        raise ValidationError({"share": f"this share is already {state}"})
    reason = str(reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"at most {MAX_REASON} characters"})
    share.revoked_dt = now_utc()
    share.revoked_by_id = actor.user_id
    share.revoked_by = actor.username
    share.revoke_reason = reason
    db.session.flush()
    trail.record(
        actor,
        "update",
        share.record_type,
        share.record_id,
        justification=reason or share.reason,
        details={"share_id": share.id, "share": "revoked"},
    )
    return share


def shares_of(record, *, actor: Actor) -> list[RecordShare]:
    """Every share of a record the actor sees (current and past, newest first): the owning
    unit sees them all, a recipient only those that name it."""
    stmt = select(RecordShare).where(
        RecordShare.record_type == record.__record_type__, RecordShare.record_id == record.id
    )
    if not actor.is_system and actor.unit_id != record.unit_id:
        mine = [RecordShare.unit_id == actor.unit_id] if actor.unit_id is not None else []
        if actor.user_id is not None:
            mine.append(RecordShare.user_id == actor.user_id)
        if not mine:
            return []
        stmt = stmt.where(or_(*mine))
    return list(db.session.scalars(stmt.order_by(RecordShare.id.desc())))


def list_shares(record_type: str, record_id, *, actor: Actor) -> list[RecordShare]:
    """``shares_of`` a record the actor may see, with one ``search`` trail row."""
    record = load_record(record_type, record_id, actor=actor)
    rows = shares_of(record, actor=actor)
    trail.record(
        actor,
        "search",
        "record_share",
        None,
        query=f"{record_type}:{record.id}",
        details={"returned": len(rows)},
    )
    return rows


def record_expiries(now: datetime | None = None) -> int:
    """Write one trail row for each share that has ended by reaching its end date (once per
    share; the share-expiry job and ``tollgate shares expire`` call this)."""
    now = now or now_utc()
    actor = Actor.system("share-expiry")
    due = db.session.scalars(
        select(RecordShare)
        .where(
            RecordShare.revoked_dt.is_(None),
            RecordShare.expires_dt <= now,
            RecordShare.expiry_logged_dt.is_(None),
        )
        .order_by(RecordShare.expires_dt, RecordShare.id)
        .with_for_update()
    ).all()
    for share in due:
        share.expiry_logged_dt = now
        trail.record(
            actor,
            "update",
            share.record_type,
            share.record_id,
            justification=share.reason,
            details={
                "share_id": share.id,
                "share": "expired",
                "expires": as_utc(share.expires_dt).isoformat(),
            },
        )
    db.session.flush()
    return len(due)


def run_expiry_job() -> None:
    """Job: note in the trail the shares that ended since the last run."""
    record_expiries()
    db.session.commit()


def share_json(share: RecordShare) -> dict:
    return {
        "id": share.id,
        "record_type": share.record_type,
        "record_id": share.record_id,
        "unit": share.unit.code if share.unit else None,
        "unit_id": share.unit_id,
        "user": share.user.username if share.user else None,
        "user_id": share.user_id,
        "reason": share.reason,
        "conditions": share.conditions,
        "created": share.created_dt.isoformat(),
        "created_by": share.created_by,
        "expires_dt": as_utc(share.expires_dt).isoformat() if share.expires_dt else None,
        "revoked_dt": as_utc(share.revoked_dt).isoformat() if share.revoked_dt else None,
        "revoked_by": share.revoked_by,
        "revoke_reason": share.revoke_reason,
        "status": status(share),
    }
