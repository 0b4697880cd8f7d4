"""Risk services shared by the importer, the engine, the views and the API."""

from datetime import datetime

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


def profile_exists(name: str) -> bool:
    """Whether a risk profile of this name exists (demo loaders stay idempotent; read only,
    no access check: names are not restricted)."""
    from app.risk.models import RiskProfile

    return db.session.scalar(select(RiskProfile.id).where(RiskProfile.name == name)) is not None


def declaration_exists(number: str) -> bool:
    """Whether a declaration of this number exists (demo loaders; read only, no record read)."""
    from app.risk.models import Declaration

    return db.session.scalar(select(Declaration.id).where(Declaration.number == number)) is not None


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


def visible_code_clause(actor, role: str, code_column):
    """SQL condition: a declaration the actor may see carries ``code_column`` as its
    ``role`` code (importer, declarant, courier): a trader code is named only to who may see
    a declaration that bears it (code-C declarations of another unit do not count)."""
    from sqlalchemy import exists

    from app.risk.models import Declaration
    from app.security.access import visible_clause

    column = getattr(Declaration, f"{role}_code")
    return exists().where(column == code_column, visible_clause(actor, Declaration))


def visible_declaration_ids(actor, start, end) -> set[int]:
    """Ids of the declarations dated from ``start`` to ``end`` that the actor may see."""
    from app.risk.models import Declaration
    from app.security.access import visible_clause

    return set(
        db.session.scalars(
            select(Declaration.id).where(
                Declaration.declaration_date >= start,
                Declaration.declaration_date <= end,
                visible_clause(actor, Declaration),
            )
        )
    )


def screening_pending(actor) -> tuple[int, datetime | None]:
    """Of the declarations ``actor`` may see, how many have screening hits the worker has
    still to write (``assessment.record_pending_screening``), and when the oldest of them
    was assessed: the hits list says so, and says when the worker has fallen behind."""
    from sqlalchemy import func

    from app.risk.models import Declaration
    from app.security.access import visible_clause

    count, oldest = db.session.execute(
        select(func.count(), func.min(Declaration.assessed_dt)).where(
            Declaration.screening_pending, visible_clause(actor, Declaration)
        )
    ).one()
    return count or 0, oldest
