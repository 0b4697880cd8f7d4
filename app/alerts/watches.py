"""Watches (an entity, a news term) and saved searches: create, list, remove."""

from flask import current_app
from sqlalchemy import and_, select

from app.alerts.models import SEVERITIES, SavedSearch, Watch
from app.alerts.routing import check_recipients
from app.alerts.subjects import can_open, model_for
from app.core.database import valid_id
from app.core.errors import ValidationError
from app.extensions import db
from app.search.registry import search_sources
from app.security.access import Actor, NotFound
from app.security.models import ApiClient, Unit, User

MAX_TERM = 200


def _owned(actor: Actor, model):
    """Rows the actor may manage: their own; for API clients, those created over the API
    by a client of the same unit (a unit's integrations share their watches)."""
    if actor.user_id is not None:
        return model.owner_id == actor.user_id
    return and_(model.client_id.is_not(None), model.unit_id == actor.unit_id)


def _recipients(actor: Actor, recipients) -> dict:
    """Checked recipients, all in the actor's own unit (roles are resolved inside it).

    A watch or saved search alerts its owner's unit only: a user or a client of one unit
    cannot address another unit's people (no permission allows it; a unit that needs to
    know is told through a share of the record). 422 naming the entry otherwise."""
    spec = check_recipients(recipients)
    if actor.user_id is None and not any(spec.values()):
        raise ValidationError({"recipients": "name at least one user, unit or role"})
    if actor.is_system:
        return spec
    for i, ref in enumerate(spec.get("users") or []):
        user_id = valid_id(ref)
        user = db.session.get(User, user_id) if user_id is not None else None
        if user is None or actor.unit_id is None or user.unit_id != actor.unit_id:
            raise ValidationError({f"recipients.users[{i}]": f"no user {ref} in your unit"})
    own = db.session.get(Unit, actor.unit_id) if actor.unit_id is not None else None
    for i, ref in enumerate(spec.get("units") or []):
        if own is None or str(ref).upper() not in (str(own.id), own.code.upper()):
            raise ValidationError({f"recipients.units[{i}]": "must be your own unit"})
    return spec


# --- running as the owner ---------------------------------------------------------------------


def client_permissions(client) -> frozenset[str]:
    """The permissions an API client's scopes give it (as on each of its requests)."""
    from app.core.api import SCOPE_PERMISSIONS

    granted: set[str] = set()
    for scope in client.scope_set:
        granted |= SCOPE_PERMISSIONS.get(scope, set())
    return frozenset(granted)


def owner_actor(row) -> Actor | None:
    """The Actor a watch or saved search runs as: its owner with today's roles and unit, or
    the API client that created it with today's scopes. None when the owner is gone (user
    deactivated, client revoked) or there is none: the row then does not run."""
    if row.owner_id is not None:
        user = db.session.get(User, row.owner_id)
        return Actor.for_user(user) if user is not None and user.is_active else None
    if row.client_id is not None:
        client = db.session.get(ApiClient, row.client_id)
        if client is None or not client.is_active:
            return None
        return Actor.for_client(client, client_permissions(client))
    return None


def runnable(rows) -> list[tuple]:
    """``(watch, owner)`` for the watches whose owner still may run them: alerts permission,
    and for an entity watch, need-to-know of the entity today."""
    out = []
    for row in rows:
        owner = owner_actor(row)
        if owner is None or not owner.can("alert.view"):
            continue
        if row.kind == "entity" and not _may_follow(owner, row.entity_id):
            continue
        out.append((row, owner))
    return out


def _may_follow(owner: Actor, entity_id) -> bool:
    """May the owner still open the watched entity? (One no longer stored names nothing.)"""
    model = model_for("entity")
    if model is None or db.session.get(model, entity_id) is None:
        return True
    return can_open(owner, "entity", entity_id)


def _severity(severity):
    if severity not in SEVERITIES:
        raise ValidationError({"severity": f"must be one of {', '.join(SEVERITIES)}"})
    return severity


def entity_label(entity_id: int) -> str | None:
    model = model_for("entity")
    entity = db.session.get(model, entity_id) if model is not None else None
    if entity is None:
        return None
    for attr in ("display_name", "name", "label", "title"):
        value = getattr(entity, attr, None)
        if value:
            return str(value)
    return f"entity #{entity_id}"


def list_watches(actor: Actor) -> list[Watch]:
    actor.require("alert.view")
    return db.session.scalars(
        select(Watch)
        .where(_owned(actor, Watch), Watch.is_active.is_(True))
        .order_by(Watch.id.desc())
    ).all()


def watch_entity(
    actor: Actor, entity_id, *, severity: str = "medium", recipients=None, label: str | None = None
) -> Watch:
    """Alert when the entity appears in a new record or gains a link."""
    actor.require("alert.manage")
    if valid_id(entity_id) is None:
        raise ValidationError({"entity_id": "must be an entity id"})
    known = entity_label(entity_id) if model_for("entity") is not None else None
    if model_for("entity") is not None and (
        known is None or not can_open(actor, "entity", entity_id)
    ):
        raise ValidationError({"entity_id": f"no entity {entity_id} that you may open"})
    existing = db.session.scalar(
        select(Watch).where(
            _owned(actor, Watch),
            Watch.kind == "entity",
            Watch.entity_id == entity_id,
            Watch.is_active.is_(True),
        )
    )
    if existing is not None:
        raise ValidationError({"entity_id": f"you already watch entity {entity_id}"})
    watch = Watch(
        kind="entity",
        entity_id=entity_id,
        label=(label or known or f"entity #{entity_id}")[:200],
        severity=_severity(severity),
        recipients=_recipients(actor, recipients),
        owner_id=actor.user_id,
        client_id=actor.api_client_id,
        unit_id=actor.unit_id,
    )
    db.session.add(watch)
    db.session.flush()
    return watch


def watch_term(actor: Actor, term: str, *, severity: str = "low", recipients=None) -> Watch:
    """Alert when a news article mentions ``term`` (case-insensitive)."""
    actor.require("alert.manage")
    term = " ".join((term or "").split()).lower()
    if len(term) < 3:
        raise ValidationError({"term": "must be at least 3 characters"})
    if len(term) > MAX_TERM:
        raise ValidationError({"term": f"must be at most {MAX_TERM} characters"})
    if db.session.scalar(
        select(Watch).where(
            _owned(actor, Watch),
            Watch.kind == "term",
            Watch.term == term,
            Watch.is_active.is_(True),
        )
    ):
        raise ValidationError({"term": f"you already watch “{term}”"})
    watch = Watch(
        kind="term",
        term=term,
        label=term,
        severity=_severity(severity),
        recipients=_recipients(actor, recipients),
        owner_id=actor.user_id,
        client_id=actor.api_client_id,
        unit_id=actor.unit_id,
    )
    db.session.add(watch)
    db.session.flush()
    return watch


def remove_watch(actor: Actor, watch_id: int) -> None:
    actor.require("alert.manage")
    watch = db.session.scalar(select(Watch).where(Watch.id == watch_id, _owned(actor, Watch)))
    if watch is None:
        raise NotFound()
    watch.is_active = False


def watch_recipients(watch, owner: Actor | None = None) -> dict:
    """The owner plus whoever the watch names, inside the owner's unit of today."""
    spec = {k: list(v) for k, v in (watch.recipients or {}).items()}
    if watch.owner_id is not None:
        spec.setdefault("users", [])
        if watch.owner_id not in spec["users"]:
            spec["users"].append(watch.owner_id)
    if owner is not None and not owner.is_system:
        spec["within_unit"] = owner.unit_id
    return spec


def active_watches_for_entities(entity_ids) -> list[Watch]:
    ids = [i for i in entity_ids if i is not None]
    if not ids:
        return []
    return db.session.scalars(
        select(Watch).where(
            Watch.kind == "entity", Watch.entity_id.in_(ids), Watch.is_active.is_(True)
        )
    ).all()


def active_entity_watches() -> list[Watch]:
    return db.session.scalars(
        select(Watch).where(Watch.kind == "entity", Watch.is_active.is_(True))
    ).all()


def active_term_watches() -> list[Watch]:
    return db.session.scalars(
        select(Watch).where(Watch.kind == "term", Watch.is_active.is_(True))
    ).all()


# --- saved searches -------------------------------------------------------------------------


def list_saved_searches(actor: Actor) -> list[SavedSearch]:
    actor.require("alert.view")
    return db.session.scalars(
        select(SavedSearch)
        .where(_owned(actor, SavedSearch), SavedSearch.is_active.is_(True))
        .order_by(SavedSearch.id.desc())
    ).all()


def save_search(
    actor: Actor,
    *,
    name: str,
    query: str,
    record_types=None,
    severity: str = "low",
    recipients=None,
) -> SavedSearch:
    """Re-run ``query`` on a schedule; new results raise an alert."""
    actor.require("alert.manage")
    # Runs as its owner: a person needs search, a client the search:read scope (403).
    actor.require("search.use")
    errors = {}
    name = (name or "").strip()
    query = (query or "").strip()
    if not name:
        errors["name"] = "is required"
    if len(query) < 2:
        errors["query"] = "must be at least 2 characters"
    elif len(query) > 500:
        errors["query"] = "must be at most 500 characters"
    types = record_types or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        errors["record_types"] = "must be a list of record types"
    elif unknown := [t for t in types if t not in search_sources(current_app)]:
        errors["record_types"] = f"unknown record type {unknown[0]!r}"
    if errors:
        raise ValidationError(errors)
    if db.session.scalar(
        select(SavedSearch).where(
            _owned(actor, SavedSearch), SavedSearch.name == name, SavedSearch.is_active.is_(True)
        )
    ):
        raise ValidationError({"name": f"you already have a saved search named “{name}”"})
    saved = SavedSearch(
        name=name[:200],
        query=query,
        record_types=types,
        severity=_severity(severity),
        recipients=_recipients(actor, recipients),
        owner_id=actor.user_id,
        client_id=actor.api_client_id,
        unit_id=actor.unit_id,
    )
    db.session.add(saved)
    db.session.flush()
    return saved


def remove_saved_search(actor: Actor, saved_id: int) -> None:
    actor.require("alert.manage")
    saved = db.session.scalar(
        select(SavedSearch).where(SavedSearch.id == saved_id, _owned(actor, SavedSearch))
    )
    if saved is None:
        raise NotFound()
    saved.is_active = False
