"""The seam rule: text naming a record, shown outside that record's own page, goes through
``record_label`` with the recipient, so a record the recipient may not open is never named.

A hidden record is described as "a restricted record of <unit code>": the recipient learns
that something exists and whom to ask, never what it is.
"""

from app.extensions import db
from app.security.access import Actor, can_see


def restricted_label(record) -> str:
    """How a record the recipient may not open is described."""
    from app.security.models import Unit

    unit = db.session.get(Unit, record.unit_id) if record.unit_id is not None else None
    return f"a restricted record of {unit.code}" if unit else "a restricted record"


def record_label(recipient: Actor, record, label: str) -> str:
    """``label`` if ``recipient`` may open ``record``, else the restricted description."""
    return label if can_see(recipient, record) else restricted_label(record)
