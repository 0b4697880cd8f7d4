"""What alerts can be about, and who may open it: the need-to-know check used for routing.

Nobody is alerted about a record they may not open. For each record type the check is,
in order of preference:

1. a function a domain (or this package, for it) registered with ``register_subject``;
2. the domain's search source (``app.search.registry``): its permission and ``visible_ids``;
3. the mapped model whose ``__record_type__`` matches, checked with ``can_see``.

An unknown record type fails closed: nobody is alerted.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.extensions import db
from app.security.access import Actor, can_see

#: the role permission needed to open each kind of record at all
DEFAULT_PERMISSIONS = {
    "declaration": "risk.declaration.view",
    "case": "case.view",
    "entity": "entity.view",
    "link": "entity.view",
    "report": "intel.view",
    "article": "news.view",
    "profile": "risk.profile.view",
}


@dataclass(frozen=True)
class SubjectType:
    record_type: str
    permission: str
    #: can_open(actor, record_id) -> bool (need-to-know); None: use the model with can_see
    can_open: Callable[[Actor, int], bool] | None = None
    #: url(record_id) -> link to the record's page, or None
    url: Callable[[int], str | None] | None = None
    #: handling(record_id) -> "P" or "C"; None: read the model's handling_code
    handling: Callable[[int], str] | None = None


def register_subject(
    app, record_type: str, permission: str, can_open=None, url=None, handling=None
) -> None:
    """Declare how to check need-to-know for alerts about ``record_type``."""
    app.extensions.setdefault("tollgate_alert_subjects", {})[record_type] = SubjectType(
        record_type, permission, can_open, url, handling
    )


def unregister_subject(app, record_type: str) -> None:
    app.extensions.get("tollgate_alert_subjects", {}).pop(record_type, None)


def _registered(record_type):
    return current_app.extensions.get("tollgate_alert_subjects", {}).get(record_type)


def _search_source(record_type):
    from app.search.registry import search_sources

    return search_sources(current_app).get(record_type)


def model_for(record_type: str):
    """The mapped class whose ``__record_type__`` is ``record_type`` (None if none is)."""
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__record_type__", None) == record_type and hasattr(cls, "id"):
            return cls
    return None


def can_open(
    actor: Actor, record_type: str, record_id: int, *, check_permission: bool = True
) -> bool:
    """May ``actor`` open record ``record_type:record_id``? (False when unsure.)

    ``check_permission=False`` checks need-to-know only (unit, handling code, shares): an
    API client reading its unit's alerts holds alert scopes, not the subject's role
    permission.
    """
    spec = _registered(record_type)
    if spec is not None:
        if check_permission and not actor.can(spec.permission):
            return False
        if spec.can_open is not None:
            return bool(spec.can_open(actor, record_id))
    else:
        source = _search_source(record_type)
        if source is not None:
            if check_permission and not actor.can(source.permission):
                return False
            return record_id in set(source.visible_ids(actor, [record_id]))
        permission = DEFAULT_PERMISSIONS.get(record_type)
        if permission is None or (check_permission and not actor.can(permission)):
            return False
    model = model_for(record_type)
    if model is None:
        return False
    record = db.session.get(model, record_id)
    if record is None:
        return False
    if not hasattr(record, "handling_code"):
        return True
    return can_see(actor, record)


def subject_handling(record_type: str, record_id: int) -> str:
    """The subject's handling code: "C" keeps its details out of e-mail and webhooks."""
    spec = _registered(record_type)
    if spec is not None and spec.handling is not None:
        return spec.handling(record_id)
    model = model_for(record_type)
    record = db.session.get(model, record_id) if model is not None else None
    return getattr(record, "handling_code", None) or "P"


def url_for_subject(record_type: str, record_id: int) -> str | None:
    """Link to the subject's page when its domain says how, else None."""
    spec = _registered(record_type)
    if spec is not None and spec.url is not None:
        return spec.url(record_id)
    source = _search_source(record_type)
    if source is not None:
        try:
            return source.url(record_id)
        except Exception:  # a domain's URL builder must never break the inbox
            current_app.logger.exception("url for %s:%s failed", record_type, record_id)
    return None
