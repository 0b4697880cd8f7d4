"""Records one domain acts on without importing the domain that owns them (issue 21: "save
chart to case behind a registry"). The owner registers, in its ``init_app``, how to open one
of its records for an actor (need-to-know and the access trail applied: ``NotFound``
outside them) and how to note something on it; another domain calls ``open_record`` and
``note_on_record`` with the record type. So intel saves a chart in a case without importing
the cases domain, and the import graph keeps no cycle between them.

A domain may also let others find one of its records by reference, create one and link it to
another record (``find_record``, ``create_record``, ``link_record``): the alerts domain opens
a case from an alert this way, so alerts import nothing of cases and the cycle intel ->
alerts -> cases -> intel stays broken (``.importlinter``, contract ``domains-acyclic``).
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
    #: find(reference, *, actor, field, id_allowed=False) -> the record, for the actor to
    #: change (a ValidationError on ``field`` when none is, visible or not: no oracle)
    find: Callable | None = None
    #: create(*args, actor, **fields) -> a new record (its domain validates the fields)
    create: Callable | None = None
    #: link(record_id, other_type, other_id, *, actor, note=None) -> the record names another
    link: Callable | None = None


def add_record_actions(app, actions: RecordActions) -> None:
    app.extensions.setdefault("tollgate_record_actions", {})[actions.record_type] = actions


def _actions(record_type: str, action: str = "open") -> Callable:
    actions = current_app.extensions.get("tollgate_record_actions", {}).get(record_type)
    if actions is None or getattr(actions, action) is None:
        raise NotFound()
    return getattr(actions, action)


def open_record(record_type: str, record_id, *, actor, action: str = "view"):
    """The record, opened by its own domain for ``actor`` (NotFound when it may not)."""
    return _actions(record_type)(record_id, actor=actor, action=action)


def note_on_record(record_type: str, record_id, text: str, *, actor) -> None:
    """A note on the record through its own domain (nothing when it keeps no notes)."""
    actions = current_app.extensions.get("tollgate_record_actions", {}).get(record_type)
    if actions is None:
        raise NotFound()
    if actions.note is not None:
        actions.note(record_id, text, actor=actor)


def find_record(record_type: str, reference, *, actor, field: str, id_allowed: bool = False):
    """The record named by ``reference``, for ``actor`` to change, through its own domain."""
    return _actions(record_type, "find")(reference, actor=actor, field=field, id_allowed=id_allowed)


def create_record(record_type: str, *args, actor, **fields):
    """A new record of ``record_type``, created (and validated) by its own domain."""
    return _actions(record_type, "create")(*args, actor=actor, **fields)


def link_record(record_type: str, record_id, other_type: str, other_id, *, actor, note=None):
    """Link the record to another record (the link is kept by the record's own domain)."""
    return _actions(record_type, "link")(record_id, other_type, other_id, actor=actor, note=note)
