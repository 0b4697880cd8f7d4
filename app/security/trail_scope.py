"""Who may read which rows of the access trail.

A supervisor (``trail.view``) reads the rows of their own unit: rows whose actor is a user of
the unit, or one of the unit's API clients. Reading the trail of other units (who in HQ
looked up which code-C subject) is a separate permission, ``trail.view_all``, held by the
data-protection / internal-affairs role; such a read is itself marked in the trail.

Rows are attributed by the actor's current unit (the trail row stores the user id, not the
unit at the time); rows of the system (jobs, CLI) belong to no unit.
"""

from dataclasses import dataclass

from sqlalchemy import String, and_, literal, or_, select

from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import AccessDenied, Actor
from app.security.models import ApiClient, Unit, User
from app.security.trail import AccessEvent


@dataclass(frozen=True)
class TrailScope:
    #: the unit whose rows are read; None: every unit
    unit_id: int | None
    #: "unit <code>" or "all units", as written in the trail row of the read
    label: str
    #: the read reaches beyond the reader's own unit
    cross_unit: bool

    def details(self) -> dict:
        return {"scope": self.label, "cross_unit": self.cross_unit}


def scope_for(actor: Actor, unit_code: str | None = None) -> TrailScope:
    """The rows ``actor`` reads; ``unit_code`` ("" for every unit) only with trail.view_all."""
    actor.require("trail.view")
    code = (unit_code or "").strip()
    if not actor.can("trail.view_all"):
        if actor.unit_id is None:
            raise AccessDenied("The access trail is read per unit; this account has none.")
        return TrailScope(actor.unit_id, f"unit {_code(actor.unit_id)}", cross_unit=False)
    if not code:
        return TrailScope(None, "all units", cross_unit=True)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationError({"unit": "no such unit"})
    return TrailScope(unit.id, f"unit {unit.code}", cross_unit=unit.id != actor.unit_id)


def restrict(stmt, scope: TrailScope):
    """``stmt`` (a SELECT of AccessEvent) limited to the rows of ``scope``."""
    if scope.unit_id is None:
        return stmt
    return stmt.where(_acted_in_unit(scope.unit_id))


def _acted_in_unit(unit_id: int):
    users = select(User.id).where(User.unit_id == unit_id)
    # API clients act under the name "api:<client name>" (Actor.for_client). A name that
    # some other unit's client also uses cannot be attributed, so it is left out.
    elsewhere = select(ApiClient.name).where(ApiClient.unit_id != unit_id)
    clients = select(literal("api:", String) + ApiClient.name).where(
        ApiClient.unit_id == unit_id, ApiClient.name.not_in(elsewhere)
    )
    return or_(
        AccessEvent.user_id.in_(users),
        and_(AccessEvent.user_id.is_(None), AccessEvent.username.in_(clients)),
    )


def _code(unit_id: int) -> str:
    unit = db.session.get(Unit, unit_id)
    return unit.code if unit else str(unit_id)


def units_for(actor: Actor) -> list[Unit]:
    """Units offered in the trail filter (every unit for trail.view_all, else none)."""
    if not actor.can("trail.view_all"):
        return []
    return list(db.session.scalars(select(Unit).order_by(Unit.code)))
