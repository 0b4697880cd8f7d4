"""Risk profiles and named lists: writing, versions, life cycle and live statistics."""

from datetime import datetime

from sqlalchemy import case, func, select

from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.risk import profile_versions, rules
from app.risk.models import (
    CHANNELS,
    ControlResult,
    NamedList,
    ProfileHit,
    RiskProfile,
    RiskProfileVersion,
)
from app.risk.settings import bump_version
from app.security.access import Actor
from app.security.roles import ROLES

LIST_KINDS = {
    "trader": "Companies (trader codes)",
    "hs_code": "HS codes (prefixes)",
    "country": "Countries",
    "office": "Customs offices",
}
#: fields whose change means the profile must be simulated again before it fires
_RULE_FIELDS = ("conditions", "channel")
_TEXT_FIELDS = ("name", "risk_area", "assessment", "instructions")
#: the transitions an analyst may make (simulate is done by running a simulation)
TRANSITIONS = {
    "draft": {"retired"},
    "simulated": {"active", "draft", "retired"},
    "active": {"retired"},
    "retired": {"draft"},
}


def list_kinds() -> dict[str, str]:
    return {nl.name: nl.kind for nl in db.session.scalars(select(NamedList))}


def _snapshot(p: RiskProfile) -> dict:
    return {
        "name": p.name,
        "risk_area": p.risk_area,
        "assessment": p.assessment,
        "conditions": p.conditions,
        "channel": p.channel,
        "instructions": p.instructions,
        "is_sensitive": p.is_sensitive,
        "recipients": p.recipients,
        "valid_from": p.valid_from_dt.isoformat() if p.valid_from_dt else None,
        "valid_to": p.valid_to_dt.isoformat() if p.valid_to_dt else None,
        "status": p.status,
    }


def _parse_dt(raw, path, errors):
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        return as_utc(raw)
    try:
        return as_utc(datetime.fromisoformat(str(raw)))
    except ValueError:
        errors[path] = f"{raw!r} is not a date/time (YYYY-MM-DD or ISO 8601)"
        return None


def _recipients(raw, errors) -> dict:
    from app.security.models import Unit, User

    raw = raw or {}
    if not isinstance(raw, dict):
        errors["recipients"] = "must be {users: [...], units: [...], roles: [...]}"
        return {}
    out = {"users": [], "units": [], "roles": []}
    for key in raw:
        if key not in out:
            errors[f"recipients.{key}"[:80]] = "must be users, units or roles"
    for key in out:
        if not isinstance(raw.get(key) or [], list):
            errors[f"recipients.{key}"] = "must be a list"
        elif len(raw.get(key) or []) > 500:
            errors[f"recipients.{key}"] = "at most 500 recipients"
    if any(k.startswith("recipients.") for k in errors):
        return out
    for key, model in (("users", User), ("units", Unit)):
        for n, value in enumerate(raw.get(key) or []):
            if isinstance(value, bool) or not isinstance(value, int | str):
                errors[f"recipients.{key}[{n}]"] = "must be an id"
                continue
            try:
                ident = int(value) if len(str(value)) <= 18 else None
            except ValueError:
                ident = None
            if ident is None or not 0 < ident < 2**31:
                errors[f"recipients.{key}[{n}]"] = "must be an id"
                continue
            if db.session.get(model, ident) is None:
                errors[f"recipients.{key}[{n}]"] = f"no {key[:-1]} with id {ident}"
            else:
                out[key].append(ident)
    for n, role in enumerate(raw.get("roles") or []):
        if not isinstance(role, str) or role not in ROLES:
            errors[f"recipients.roles[{n}]"] = f"unknown role {rules._shown(role)}"
        else:
            out["roles"].append(role)
    return out


def _clean(data: dict, errors: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"profile": "must be an object"})
    out = {}
    name = data.get("name") or ""
    if not isinstance(name, str):
        errors["name"] = "must be text"
        name = ""
    name = name.strip()
    if not name and "name" not in errors:
        errors["name"] = "is required"
    elif len(name) > 200:
        errors["name"] = "is longer than 200 characters"
    out["name"] = name
    for key in ("risk_area", "assessment", "instructions"):
        value = data.get(key) or ""
        if not isinstance(value, str):
            errors[key] = "must be text"
            value = ""
        out[key] = value.strip()[:10000]
    for key in ("name", "risk_area", "assessment", "instructions"):
        if "\x00" in out[key]:
            errors[key] = "must not contain NUL characters"
    if not out["risk_area"] and "risk_area" not in errors:
        errors["risk_area"] = "describe the risk area"
    channel = data.get("channel")
    if not isinstance(channel, str) or channel not in CHANNELS or channel == "green":
        errors["channel"] = "must be a control lane (blue, yellow, orange or red)"
    out["channel"] = channel
    try:
        out["conditions"] = rules.validate(data.get("conditions"), lists=list_kinds())
    except ValidationError as exc:
        errors.update(exc.fields)
    out["is_sensitive"] = bool(data.get("is_sensitive"))
    out["recipients"] = _recipients(data.get("recipients"), errors)
    if out["is_sensitive"] and not any(out["recipients"].values()):
        errors["recipients"] = "a sensitive profile names at least one recipient"
    out["valid_from_dt"] = _parse_dt(data.get("valid_from"), "valid_from", errors)
    out["valid_to_dt"] = _parse_dt(data.get("valid_to"), "valid_to", errors)
    if out["valid_from_dt"] and out["valid_to_dt"] and out["valid_to_dt"] <= out["valid_from_dt"]:
        errors["valid_to"] = "must be after the start of validity"
    return out


def _record_version(p: RiskProfile, actor: Actor, changes: list[str], *, approved=False):
    row = RiskProfileVersion(
        profile_id=p.id,
        version=p.version,
        snapshot=_snapshot(p),
        changes=changes,
        changed_by_id=actor.user_id,
        changed_by_name=actor.username,
    )
    if approved:
        row.approved_by_id, row.approved_by_name = actor.user_id, actor.username
        row.approved_dt = now_utc()
    db.session.add(row)
    return row


def create_profile(data: dict, *, actor: Actor) -> RiskProfile:
    """A new draft profile (validated; errors name the field or condition path)."""
    actor.require("risk.profile.edit")
    errors: dict[str, str] = {}
    clean = _clean(data, errors)
    if errors:
        raise ValidationError(errors)
    last = db.session.scalar(select(func.max(RiskProfile.id))) or 0
    code = f"RP-{last + 1:04d}"
    while db.session.scalar(select(RiskProfile.id).where(RiskProfile.code == code)):
        last += 1
        code = f"RP-{last + 1:04d}"
    profile = RiskProfile(
        code=code,
        status="draft",
        owner_id=actor.user_id,
        author_id=actor.user_id,
        version=1,
        **clean,
    )
    db.session.add(profile)
    db.session.flush()
    _record_version(profile, actor, ["created"])
    db.session.flush()
    return profile


def _changes(old_values: dict, clean: dict) -> tuple[list[str], bool]:
    """Readable changes from ``old_values`` to ``clean``, and whether the rule changed."""
    changes = []
    rule_changed = False
    for key, value in clean.items():
        old = old_values[key]
        if old != value:
            label = key.removesuffix("_dt").replace("_", " ")
            if key == "conditions":
                changes.append(f"rule: {rules.describe(old)} → {rules.describe(value)}")
            elif key in _TEXT_FIELDS:
                changes.append(f"{label} edited")
            else:
                changes.append(f"{label}: {old} → {value}")
            rule_changed = rule_changed or key in _RULE_FIELDS
    return changes, rule_changed


def update_profile(profile_id: int, data: dict, *, actor: Actor, note: str | None = None):
    """Save a new version. An active profile keeps firing: the edit is the draft of its next
    version, swapped in when activated after a simulation. Any other profile is changed in
    place; changing its rule or channel sends it back to draft (simulate again)."""
    actor.require("risk.profile.edit")
    # Two analysts saving at once: the second waits and numbers its version after the first.
    lock_rows(RiskProfile, profile_id)
    profile = get_profile(profile_id)
    errors: dict[str, str] = {}
    clean = _clean(data, errors)
    if errors:
        raise ValidationError(errors)
    live = profile_versions.values_of(profile)
    changes, rule_changed = _changes(live, clean)
    if profile.status == "active":
        if changes or note or profile.draft_version is not None:
            profile_versions.save_draft(profile, clean, changes, actor=actor, note=note)
        return profile
    if not changes and note is None:
        return profile
    for key, value in clean.items():
        setattr(profile, key, value)
    profile.author_id = actor.user_id
    if (rule_changed and profile.status == "simulated") or (
        note and profile.status in ("simulated", "retired")
    ):
        profile.status = "draft"
        profile.last_simulation = None
        changes.append("status → draft (simulate again before activating)")
    profile.version = profile_versions.next_version(profile)
    _record_version(profile, actor, [*([note] if note else []), *changes])
    db.session.flush()
    return profile


def restore_version(profile_id: int, version: int, *, actor: Actor) -> RiskProfile:
    """An earlier version's fields become a new draft (the next version of an active
    profile; the profile itself otherwise). History is never rewritten."""
    actor.require("risk.profile.edit")
    row = profile_versions.get_version(profile_id, version)
    data = profile_versions.input_from_snapshot(row.snapshot)
    return update_profile(profile_id, data, actor=actor, note=f"restored from version {version}")


def get_profile(profile_id) -> RiskProfile:
    profile = db.session.get(RiskProfile, profile_id)
    if profile is None:
        from app.security.access import NotFound

        raise NotFound("No such risk profile.")
    return profile


def mark_simulated(profile: RiskProfile, summary: dict, *, actor: Actor) -> None:
    """A simulation ran on history: keep its figures; a draft becomes 'simulated'."""
    if profile.draft_version is not None:
        profile_versions.mark_draft_simulated(profile, summary)
        return
    profile.last_simulation = summary
    if profile.status == "draft":
        profile.status = "simulated"
        profile.version = profile_versions.next_version(profile)
        _record_version(
            profile,
            actor,
            [
                "status: draft → simulated "
                f"({summary.get('selected', 0)} selected in "
                f"{summary.get('window', '')})"
            ],
        )
    db.session.flush()


def set_status(profile_id: int, status: str, *, actor: Actor) -> RiskProfile:
    """Move a profile along draft → simulated → active → retired; activating an active
    profile swaps its simulated next version in."""
    if status == "active":
        return activate(profile_id, actor=actor)
    lock_rows(RiskProfile, profile_id)
    profile = get_profile(profile_id)
    if profile.status == "active":
        actor.require("risk.profile.activate")
    else:
        actor.require("risk.profile.edit")
    if status not in TRANSITIONS.get(profile.status, set()):
        raise ValidationError({"status": f"a {profile.status} profile cannot become {status}"})
    old = profile.status
    changes = [f"status: {old} → {status}"]
    if profile.draft_version is not None:
        changes.append(f"draft of version {profile.draft_version} discarded")
        profile_versions.discard_draft(profile)
    profile.status = status
    profile.version = profile_versions.next_version(profile)
    _record_version(profile, actor, changes)
    if old == "active":
        bump_version()
    db.session.flush()
    return profile


def discard_next_version(profile_id: int, *, actor: Actor) -> RiskProfile:
    """Drop the next version of an active profile (kept in the history as discarded)."""
    actor.require("risk.profile.edit")
    lock_rows(RiskProfile, profile_id)
    profile = get_profile(profile_id)
    draft = profile_versions.pending_draft(profile)
    if draft is None:
        raise ValidationError({"status": "this profile has no next version to discard"})
    draft.changes = [*draft.changes, f"discarded by {actor.username}"]
    profile_versions.discard_draft(profile)
    db.session.flush()
    return profile


def activate(profile_id: int, *, actor: Actor) -> RiskProfile:
    """Put a profile (or the simulated next version of an active one) into production, in
    one transaction with the engine's version bump. With four-eyes activation someone other
    than the author activates (see profile_versions.check_approver)."""
    # Two approvers at once: the second waits, then finds the version already swapped in.
    lock_rows(RiskProfile, profile_id)
    profile = get_profile(profile_id)
    if profile.status == "active":
        profile_versions.activate_draft(profile, actor=actor)
        bump_version()
        return profile
    if "active" not in TRANSITIONS.get(profile.status, set()):
        raise ValidationError(
            {"status": f"a {profile.status} profile cannot become active (simulate it first)"}
        )
    profile_versions.check_approver(
        actor, profile.author_id or profile.owner_id, f"Version {profile.version}"
    )
    old = profile.status
    profile.status = "active"
    profile.version = profile_versions.next_version(profile)
    _record_version(profile, actor, [f"status: {old} → active"], approved=True)
    bump_version()
    db.session.flush()
    return profile


# --- named lists ---------------------------------------------------------------------------


def save_list(name: str, kind: str, values, *, description: str = "", actor: Actor) -> NamedList:
    """Create or replace a named list (trader codes, HS prefixes, countries, offices)."""
    actor.require("risk.profile.edit")
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 80:
        errors["name"] = "is required (at most 80 characters)"
    if kind not in LIST_KINDS:
        errors["kind"] = f"must be one of {', '.join(LIST_KINDS)}"
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").replace("\n", ",").split(",")]
    if not isinstance(values, list):
        errors["values"] = "must be a list"
        values = []
    field_kind = {"trader": "code", "office": "code", "hs_code": "hs", "country": "country"}
    clean = []
    for n, raw in enumerate(values):
        if str(raw).strip() == "":
            continue
        value = rules._norm_text(field_kind.get(kind, "code"), raw, f"values[{n}]", errors)
        if value is not None:
            clean.append(value)
    if not clean and "values" not in errors:
        errors["values"] = "list at least one value"
    if errors:
        raise ValidationError(errors)
    row = db.session.scalar(select(NamedList).where(NamedList.name == name))
    if row is None:
        row = NamedList(name=name, kind=kind)
        db.session.add(row)
    elif row.kind != kind:
        raise ValidationError({"kind": f"list {name!r} already holds {row.kind} values"})
    row.values = sorted(set(clean))
    row.description = description.strip() or None
    db.session.flush()
    bump_version()
    return row


# --- live statistics ----------------------------------------------------------------------


def profile_stats(profile_ids=None, *, since=None, until=None) -> dict[int, dict]:
    """profile id -> hits, inspected, found (non-compliant), hit rate, revenue."""
    found_expr = case(
        (ControlResult.is_inspected & (ControlResult.is_compliant.is_(False)), 1), else_=0
    )
    stmt = (
        select(
            ProfileHit.profile_id,
            func.count(ProfileHit.id),
            func.coalesce(func.sum(case((ControlResult.is_inspected, 1), else_=0)), 0),
            func.coalesce(func.sum(found_expr), 0),
            func.coalesce(
                func.sum(case((found_expr == 1, ControlResult.revenue_recovered), else_=0.0)), 0.0
            ),
        )
        .outerjoin(ControlResult, ControlResult.declaration_id == ProfileHit.declaration_id)
        .group_by(ProfileHit.profile_id)
    )
    if profile_ids is not None:
        stmt = stmt.where(ProfileHit.profile_id.in_(list(profile_ids)))
    if since is not None:
        stmt = stmt.where(ProfileHit.hit_dt >= since)
    if until is not None:
        stmt = stmt.where(ProfileHit.hit_dt < until)
    out = {}
    for pid, hits, inspected, found, revenue in db.session.execute(stmt):
        out[pid] = {
            "hits": hits,
            "inspected": int(inspected),
            "found": int(found),
            "hit_rate": (found / inspected) if inspected else None,
            "revenue": float(revenue or 0),
        }
    return out


def empty_stats() -> dict:
    return {"hits": 0, "inspected": 0, "found": 0, "hit_rate": None, "revenue": 0.0}


def expiring(days: int = 7) -> list[RiskProfile]:
    from datetime import timedelta

    limit = now_utc() + timedelta(days=days)
    return list(
        db.session.scalars(
            select(RiskProfile).where(
                RiskProfile.status == "active",
                RiskProfile.valid_to_dt.is_not(None),
                RiskProfile.valid_to_dt < limit,
            )
        )
    )
