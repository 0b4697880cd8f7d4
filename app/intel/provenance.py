"""Where a link or an entity came from: a record the user chose among those they may see,
shown as a link with the record's reference (never its internal number).

The record types come from the search sources the domains register (``visible_ids`` decides
need-to-know, ``url`` the page), so this module reads no other domain's tables. A record the
user may not see and one that does not exist get the same answer (no existence oracle).
"""

from flask import current_app

from app.core.errors import ValidationError
from app.core.params import id_value
from app.extensions import db
from app.search.registry import search_sources
from app.security import seams
from app.security.access import Actor

#: provenance a user may assert by hand (label of the type)
CHOOSABLE = {
    "case": "case",
    "report": "intelligence report",
    "declaration": "declaration",
    "article": "news article",
}


def checked(actor: Actor, provenance_type, provenance_id) -> tuple[str | None, int | None]:
    """``(type, id)`` of a provenance the actor chose, validated: a known type and a record of
    that type the actor may open; else ValidationError naming ``provenance_type`` or
    ``provenance_id``. No type and no id: the analyst's own assertion ``(None, None)``."""
    if provenance_type in (None, "") and provenance_id in (None, ""):
        return None, None
    if provenance_type not in CHOOSABLE:
        raise ValidationError({"provenance_type": f"must be one of {', '.join(CHOOSABLE)}"})
    number = id_value(provenance_id, "provenance_id", strict=True)
    if number is None:
        raise ValidationError({"provenance_id": f"choose the {CHOOSABLE[provenance_type]}"})
    source = search_sources(current_app).get(provenance_type)
    if (
        source is None
        or not actor.can(source.permission)
        or number not in set(source.visible_ids(actor, [number]))
    ):
        raise ValidationError(
            {"provenance_id": f"no {CHOOSABLE[provenance_type]} you may see has that number"}
        )
    return provenance_type, number


def shown(actor: Actor, provenance_type, provenance_id, *, with_url: bool = True) -> dict:
    """How a provenance reads for ``actor``: ``{"type", "label", "url"}``. The label is the
    record's reference ("R-2026-0012", a case reference, a declaration number), the restricted
    description for a record they may not open (seam rule), and ``url`` only when they may
    (``with_url=False``: no URL, for JSON built outside a request)."""
    if not provenance_type:
        return {"type": "analyst", "label": "analyst", "url": None}
    kind = CHOOSABLE.get(provenance_type, provenance_type)
    if provenance_id is None:
        return {"type": kind, "label": kind, "url": None}
    source = search_sources(current_app).get(provenance_type)
    visible = (
        source is not None
        and actor.can(source.permission)
        and provenance_id in set(source.visible_ids(actor, [provenance_id]))
    )
    model = seams.restricted_model(provenance_type)
    record = db.session.get(model, provenance_id) if model is not None else None
    if record is not None:
        name = seams.record_name(record)
        label = name if visible else seams.record_label(actor, record, name)
    elif visible:
        doc = next(iter(source.documents([provenance_id])), None)
        label = doc.title if doc is not None else "a record"
    else:
        label = "a record you may not open"
    url = source.url(provenance_id) if visible and with_url else None
    return {"type": kind, "label": f"{kind} {label}" if visible else label, "url": url}
