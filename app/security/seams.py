"""The seam rule: text naming a record, shown outside that record's own page, goes through
this module with the recipient, so a record the recipient may not open is never named.

A hidden record is described as "a restricted record of <unit code>": the recipient learns
that something exists and whom to ask, never what it is.

Text that leaves a record's page later (an alert's title, e-mail, webhook, digest) is kept
as a *phrase*: a list of plain strings and record references (``ref("entity", 12)``), never
as the rendered names. ``render(recipient, phrase)`` decides, at delivery and for each
recipient, how each referenced record reads: its name for a recipient who may open it,
the restricted description for the others. ``render(None, phrase)`` is the text for nobody
in particular (what may be stored): every handling-code-C record is described, not named.
"""

from app.extensions import db
from app.security.access import Actor, can_see

#: attributes that name a record, in order of preference (case reference, declaration
#: number, entity name ...)
NAME_ATTRS = ("reference", "number", "code", "name", "title")


def restricted_label(record) -> str:
    """How a record the recipient may not open is described."""
    from app.security.models import Unit

    unit = db.session.get(Unit, record.unit_id) if record.unit_id is not None else None
    return f"a restricted record of {unit.code}" if unit else "a restricted record"


def record_label(recipient: Actor, record, label: str) -> str:
    """``label`` if ``recipient`` may open ``record``, else the restricted description."""
    return label if can_see(recipient, record) else restricted_label(record)


def label_for(recipient: Actor, record_type: str, record_id, label: str) -> str:
    """``label`` of a record known by type and id (a case's party, a link's target), as
    ``recipient`` may read it: the restricted description for a stored restricted record
    they may not open; ``label`` itself when the id names no restricted record."""
    model = restricted_model(record_type)
    number = str(record_id).strip() if record_id is not None else ""
    if model is None or not number.isascii() or not number.isdigit() or len(number) > 18:
        return label
    record = db.session.get(model, int(number))
    return label if record is None else record_label(recipient, record, label)


#: how a confidential screening list's entry reads for a recipient who may not know it
CONFIDENTIAL_LIST_ENTRY = "an entry of a confidential screening list"


def list_entry_label(recipient: Actor | None, sensitivity: str | None, label: str) -> str:
    """``label`` (a screening list's name, its entry's caption or the reasons it matched) as
    ``recipient`` may read it: a confidential (code C) list is named only to holders of
    ``screening.confidential``; ``recipient=None`` is nobody in particular."""
    if sensitivity != "C":
        return label
    if recipient is not None and (recipient.is_system or recipient.can("screening.confidential")):
        return label
    return CONFIDENTIAL_LIST_ENTRY


def redact_names(recipient: Actor, text: str | None, named) -> str:
    """``text`` (a journal line, a note) with each name in ``named`` -- the
    ``(record_type, record_id, label)`` of the records it may name -- that ``recipient``
    may not open replaced by the restricted description."""
    text = text or ""
    hidden = {}
    for record_type, record_id, label in named:
        if label and label in text and label not in hidden:
            shown = label_for(recipient, record_type, record_id, label)
            if shown != label:
                hidden[label] = shown
    for label in sorted(hidden, key=len, reverse=True):
        text = text.replace(label, hidden[label])
    return text


# --- phrases: text naming records, rendered per recipient ----------------------------------


_MODELS: dict = {}


def restricted_model(record_type: str):
    """The mapped class of ``record_type`` when it carries a handling code, else None."""
    if record_type not in _MODELS:
        _MODELS[record_type] = next(
            (
                m.class_
                for m in db.Model.registry.mappers
                if getattr(m.class_, "__record_type__", None) == record_type
                and hasattr(m.class_, "handling_code")
            ),
            None,
        )
    return _MODELS[record_type]


def ref(record_type: str, record_id: int) -> dict:
    """A reference to a record inside a phrase."""
    return {"ref": record_type, "id": int(record_id)}


def name_of(record_type: str, record_id: int, label: str | None = None):
    """A phrase part naming a record: a reference when it is a stored restricted record
    (named per recipient), else ``label`` as plain text (news articles, profiles)."""
    model = restricted_model(record_type)
    if not label or (model is not None and db.session.get(model, record_id) is not None):
        return ref(record_type, record_id)
    return str(label)


def phrase(*parts) -> list:
    """A phrase from strings and references (adjacent strings joined, empty ones dropped)."""
    out: list = []
    for part in parts:
        if isinstance(part, list):
            out.extend(part)
        elif isinstance(part, dict):
            out.append({"ref": str(part["ref"]), "id": int(part["id"])})
        elif part:
            if out and isinstance(out[-1], str):
                out[-1] += str(part)
            else:
                out.append(str(part))
    return out


def unit_recipient(unit_id: int | None) -> Actor:
    """A unit as a recipient (a webhook posting to the unit's chat room): it may open what
    any member of the unit may open by unit, nothing shared with one person only."""
    return Actor(user_id=None, username=f"unit:{unit_id}", unit_id=unit_id)


def record_name(record) -> str:
    for attr in NAME_ATTRS:
        value = getattr(record, attr, None)
        if value:
            return str(value)
    return f"{record.__record_type__} #{record.id}"


def _describe(recipient: Actor | None, record_type: str, record_id: int) -> str:
    model = restricted_model(record_type)
    record = db.session.get(model, record_id) if model is not None else None
    if record is None:
        return f"{record_type.replace('_', ' ')} #{record_id}"
    if recipient is None:
        visible = record.handling_code != "C"
    else:
        visible = can_see(recipient, record)
    return record_name(record) if visible else restricted_label(record)


def render(recipient: Actor | None, text) -> str:
    """``text`` (a phrase, or a plain string) as ``recipient`` may read it.

    Each referenced record is named only if the recipient may open it (need-to-know:
    unit, handling code, shares); otherwise it reads "a restricted record of <unit>".
    ``recipient=None``: the text for nobody in particular (every code-C record described).
    """
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    out = []
    with db.session.no_autoflush:
        for part in text:
            if isinstance(part, dict):
                out.append(_describe(recipient, part["ref"], part["id"]))
            else:
                out.append(str(part))
    return "".join(out)
