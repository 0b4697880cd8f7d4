"""Risk services shared by the importer, the engine, the views and the API."""

from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db

#: the unit that owns imported history when neither the caller nor the actor names one
RISK_DATA_UNIT = ("RISK-DATA", "Risk data (imported history)", "risk")


def owning_unit_id(actor, unit_id: int | None = None) -> int:
    """The unit that owns new declarations: the given one, the actor's, or the risk data unit."""
    from app.security.models import Unit

    if unit_id is not None:
        if db.session.get(Unit, unit_id) is None:
            raise ValidationError({"unit_id": f"no unit with id {unit_id}"})
        return unit_id
    if actor.unit_id is not None:
        return actor.unit_id
    code, name, kind = RISK_DATA_UNIT
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind)
        db.session.add(unit)
        db.session.flush()
    return unit.id


def declarations_dated_after(day) -> int:
    """How many declarations carry a date after ``day`` (the evaluation date of ratings and
    KPIs): they are ignored there, and the count is shown (read only)."""
    from sqlalchemy import func

    from app.risk.models import Declaration

    return (
        db.session.scalar(
            select(func.count()).select_from(Declaration).where(Declaration.declaration_date > day)
        )
        or 0
    )
