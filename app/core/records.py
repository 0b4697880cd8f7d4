"""Records one domain acts on without importing the domain that owns them (issue 21: "save
chart to case behind a registry"). The owner registers, in its ``init_app``, how to open one
of its records for an actor (need-to-know and the access trail applied: ``NotFound``
outside them) and how to note something on it; another domain calls ``open_record`` and
``note_on_record`` with the record type. So intel saves a chart in a case without importing
the cases domain, and the import graph keeps no cycle between them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.security.access import NotFound


@dataclass(frozen=True)
class RecordActions:
    record_type: str
    #: open(record_id, *, actor, action="view") -> the record (NotFound outside need-to-know)
    open: Callable
    #: note(record_id, text, *, actor) -> writes a note on the record (its journal)
    note: Callable | None = None


def add_record_actions(app, actions: RecordActions) -> None:
    app.extensions.setdefault("tollgate_record_actions", {})[actions.record_type] = actions


def _actions(record_type: str) -> RecordActions:
    actions = current_app.extensions.get("tollgate_record_actions", {}).get(record_type)
    if actions is None:
        raise NotFound()
    return actions


def open_record(record_type: str, record_id, *, actor, action: str = "view"):
    """The record, opened by its own domain for ``actor`` (NotFound when it may not)."""
    return _actions(record_type).open(record_id, actor=actor, action=action)


def note_on_record(record_type: str, record_id, text: str, *, actor) -> None:
    """A note on the record through its own domain (nothing when it keeps no notes)."""
    note = _actions(record_type).note
    if note is not None:
        note(record_id, text, actor=actor)
