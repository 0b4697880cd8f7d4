"""Who is acting and what they may see: the permission object and need-to-know checks.

Every service takes an ``Actor`` and calls these helpers; views, API, exports and jobs
therefore share one set of object-level checks.
"""

from dataclasses import dataclass, field

from sqlalchemy import ForeignKey, String, Text, and_, exists, false, or_, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.extensions import db
from app.security.roles import permissions_for

HANDLING_CODES = {
    "P": "P — lawful sharing permitted",
    "C": "C — sharing with conditions (named units/users only)",
}


class AccessDenied(Exception):
    """Raised by services. ``status`` is 403 for a missing permission, 404 for a record
    outside the actor's need-to-know (so its existence is not revealed)."""

    def __init__(self, message="Access denied", status=403, trail_event=None):
        super().__init__(message)
        self.status = status
        #: the "denied" trail row; the error handler writes it after rolling back the rest
        self.trail_event = trail_event


class NotFound(AccessDenied):
    def __init__(self, message="Not found", trail_event=None):
        super().__init__(message, status=404, trail_event=trail_event)


@dataclass
class Actor:
    """The acting principal of one request or job, with its permissions precomputed."""

    user_id: int | None
    username: str
    unit_id: int | None
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = field(default_factory=frozenset)
    client_addr: str | None = None
    api_client_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_system: bool = False

    @classmethod
    def for_user(cls, user, client_addr=None) -> "Actor":
        return cls(
            user_id=user.id,
            username=user.username,
            unit_id=user.unit_id,
            roles=tuple(user.roles),
            permissions=permissions_for(user.roles),
            client_addr=client_addr,
        )

    @classmethod
    def for_client(cls, client, permissions, client_addr=None) -> "Actor":
        """A system client acts with the permissions its scopes map to, in its own unit."""
        return cls(
            user_id=None,
            username=f"api:{client.name}",
            unit_id=client.unit_id,
            roles=("api_client",),
            permissions=frozenset(permissions),
            client_addr=client_addr,
            api_client_id=client.id,
            scopes=client.scope_set,
        )

    @classmethod
    def system(cls, name="system") -> "Actor":
        """Scheduled jobs and CLI maintenance: every permission, no unit restriction."""
        from app.security.roles import PERMISSIONS

        return cls(
            user_id=None,
            username=name,
            unit_id=None,
            roles=("system",),
            permissions=frozenset(PERMISSIONS),
            is_system=True,
        )

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise AccessDenied (403) unless the actor holds ``permission``."""
        if permission not in self.permissions:
            raise AccessDenied(f"Your role does not allow this ({permission}).")


class Restricted:
    """Mixin for sensitive records: owning unit, handling code and its conditions.

    Subclasses set ``__record_type__`` (the name used in the access trail and shares).
    """

    __record_type__ = "record"

    @declared_attr
    def unit_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("unit.id"), index=True)

    handling_code: Mapped[str] = mapped_column(String(1), default="P")
    #: conditions a recipient must respect (shown with the record when the code is C)
    handling_conditions: Mapped[str | None] = mapped_column(Text)

    @property
    def is_restricted(self) -> bool:
        return self.handling_code == "C"


def can_see(actor: Actor, record) -> bool:
    """Need-to-know: code P records are open to the roles that may view them; code C
    records only to their own unit and to units/users named in a share."""
    if actor.is_system or record.handling_code != "C":
        return True
    if actor.unit_id is not None and record.unit_id == actor.unit_id:
        return True
    return granting_share(actor, record) is not None


def granting_share(actor: Actor, record):
    """The current share through which ``actor`` sees ``record`` (None if there is none)."""
    from app.security.models import RecordShare

    stmt = select(RecordShare).where(
        RecordShare.record_type == record.__record_type__,
        RecordShare.record_id == record.id,
        share_recipient_clause(actor),
    )
    return db.session.scalars(stmt.order_by(RecordShare.id).limit(1)).first()


def share_recipient_clause(actor: Actor):
    """SQL condition: a current ``record_share`` row names ``actor`` (its unit or the user).

    Current: not revoked and not past its end (``expires_dt``, compared with the clock at
    the time the statement is built). Only the actor's known identities are compared: an
    API client has no user, a system actor no unit, and ``RecordShare.user_id == None``
    would render ``IS NULL`` and match every unit share. With no identity nothing matches."""
    from app.core.time import now_utc
    from app.security.models import RecordShare

    clauses = []
    if actor.unit_id is not None:
        clauses.append(RecordShare.unit_id == actor.unit_id)
    if actor.user_id is not None:
        clauses.append(RecordShare.user_id == actor.user_id)
    if not clauses:
        return false()
    current = and_(
        RecordShare.revoked_dt.is_(None),
        or_(RecordShare.expires_dt.is_(None), RecordShare.expires_dt > now_utc()),
    )
    return and_(current, or_(*clauses))


def visible_clause(actor: Actor, model):
    """SQL filter equivalent to ``can_see`` so lists and searches filter before counting."""
    if actor.is_system:
        return True
    from app.security.models import RecordShare

    shared = exists().where(
        RecordShare.record_type == model.__record_type__,
        RecordShare.record_id == model.id,
        share_recipient_clause(actor),
    )
    clauses = [model.handling_code != "C", shared]
    if actor.unit_id is not None:
        clauses.append(model.unit_id == actor.unit_id)
    return or_(*clauses)


def share_record(record, *, unit_ids=(), user_ids=(), reason=None, expires_dt=None) -> None:
    """Add share rows for a code-C record without any check or trail row (tests, demo data).

    People share through ``app.security.shares.create_share``: permission, reason, end date,
    handling conditions and the access trail."""
    from app.security.models import RecordShare

    common = {
        "record_type": record.__record_type__,
        "record_id": record.id,
        "reason": reason,
        "expires_dt": expires_dt,
        "conditions": getattr(record, "handling_conditions", None),
    }
    for unit_id in unit_ids:
        db.session.add(RecordShare(unit_id=unit_id, **common))
    for user_id in user_ids:
        db.session.add(RecordShare(user_id=user_id, **common))


def get_for(
    actor: Actor, model, record_id, *, permission: str, action: str = "view", log: bool = True
):
    """Load a restricted record for ``actor`` or raise; writes the trail row either way.

    A missing record and one outside need-to-know both raise ``NotFound``.
    """
    from app.security import trail

    actor.require(permission)
    record = db.session.get(model, record_id)
    if record is None:
        raise NotFound()
    if not can_see(actor, record):
        event = trail.record(actor, action, model.__record_type__, record_id, outcome="denied")
        raise NotFound(trail_event=event)
    if log:
        # Seen through a share (not the own unit): the row names the share and its reason.
        share = None
        if not actor.is_system and record.handling_code == "C" and record.unit_id != actor.unit_id:
            share = granting_share(actor, record)
        trail.record(
            actor,
            action,
            model.__record_type__,
            record_id,
            justification=share.reason if share else None,
            details={"via_share": share.id} if share else None,
        )
    return record
