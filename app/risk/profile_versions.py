"""Change control of risk profiles, after the practice of rule engines in production.

The ``risk_profile`` row holds the version that fires. Editing an active profile writes the
next version beside it (a ``RiskProfileVersion`` in state ``draft``) while the active one
keeps firing; the next version is simulated, then activation swaps it in (one transaction:
the row takes the version's fields and number, and the engine's version counter is bumped,
so every process recompiles from the committed swap). With four-eyes activation
(``TOLLGATE_PROFILE_FOUR_EYES``, per site) someone other than the author, holding
``risk.profile.approve`` (a second analyst or a supervisor), activates. Any version can be
viewed and restored as a new draft.
"""

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.risk.models import RiskProfile, RiskProfileVersion
from app.security.access import Actor, NotFound

#: the fields a version holds (the keys of a validated profile, see profiles._clean)
VALUE_KEYS = (
    "name",
    "risk_area",
    "assessment",
    "conditions",
    "channel",
    "instructions",
    "is_sensitive",
    "recipients",
    "valid_from_dt",
    "valid_to_dt",
)
OPEN_STATES = ("draft", "simulated")


def four_eyes() -> bool:
    """Does this site require a second person to activate a profile version?"""
    return bool(current_app.config.get("TOLLGATE_PROFILE_FOUR_EYES", False))


def values_of(profile: RiskProfile) -> dict:
    out = {key: getattr(profile, key) for key in VALUE_KEYS}
    out["valid_from_dt"] = as_utc(out["valid_from_dt"])
    out["valid_to_dt"] = as_utc(out["valid_to_dt"])
    return out


def snapshot_of(values: dict, status: str) -> dict:
    def _iso(dt):
        return dt.isoformat() if dt else None

    snap = {k: values[k] for k in VALUE_KEYS if not k.endswith("_dt")}
    snap["valid_from"] = _iso(values.get("valid_from_dt"))
    snap["valid_to"] = _iso(values.get("valid_to_dt"))
    snap["status"] = status
    return snap


def values_from_snapshot(snap: dict) -> dict:
    out = {k: snap.get(k) for k in VALUE_KEYS if not k.endswith("_dt")}
    for key in ("valid_from", "valid_to"):
        raw = snap.get(key)
        out[f"{key}_dt"] = as_utc(datetime.fromisoformat(raw)) if raw else None
    return out


def input_from_snapshot(snap: dict) -> dict:
    """A version's fields as the profile service takes them (to restore it)."""
    keys = ("name", "risk_area", "assessment", "conditions", "channel", "instructions")
    data = {k: snap.get(k) for k in keys}
    data.update(
        is_sensitive=bool(snap.get("is_sensitive")),
        recipients=snap.get("recipients") or {},
        valid_from=snap.get("valid_from"),
        valid_to=snap.get("valid_to"),
    )
    return data


def next_version(profile: RiskProfile) -> int:
    top = db.session.scalar(
        select(func.max(RiskProfileVersion.version)).where(
            RiskProfileVersion.profile_id == profile.id
        )
    )
    return max(top or 0, profile.version or 0) + 1


def get_version(profile_id: int, version: int) -> RiskProfileVersion:
    row = db.session.scalar(
        select(RiskProfileVersion).where(
            RiskProfileVersion.profile_id == profile_id, RiskProfileVersion.version == version
        )
    )
    if row is None:
        raise NotFound("No such version of this risk profile.")
    return row


def pending_draft(profile: RiskProfile) -> RiskProfileVersion | None:
    """The next version of an active profile, written but not yet in production."""
    if profile.draft_version is None:
        return None
    row = get_version(profile.id, profile.draft_version)
    return row if row.state in OPEN_STATES else None


def save_draft(profile: RiskProfile, clean: dict, changes: list[str], *, actor: Actor, note=None):
    """Write the next version of an active profile; the active version keeps firing."""
    current = pending_draft(profile)
    if current is not None:
        if values_from_snapshot(current.snapshot) == clean and note is None:
            return current
        current.state = "discarded"
    version = next_version(profile)
    head = f"draft of version {version}: version {profile.version} keeps firing until it is"
    row = RiskProfileVersion(
        profile_id=profile.id,
        version=version,
        snapshot=snapshot_of(clean, "draft"),
        changes=[*([note] if note else []), f"{head} activated", *changes],
        changed_by_id=actor.user_id,
        changed_by_name=actor.username,
        state="draft",
    )
    db.session.add(row)
    profile.draft_version = version
    db.session.flush()
    return row


def discard_draft(profile: RiskProfile) -> None:
    row = pending_draft(profile)
    if row is not None:
        row.state = "discarded"
    profile.draft_version = None


def mark_draft_simulated(profile: RiskProfile, summary: dict) -> None:
    row = pending_draft(profile)
    if row is not None:
        row.simulation = summary
        row.state = "simulated"
        db.session.flush()


def check_approver(actor: Actor, author_id: int | None, what: str) -> None:
    """Without four-eyes the analyst activates; with it, someone other than the author
    who may approve (a second analyst or a supervisor). Loading the demo is not an analyst's
    decision: system actors pass."""
    if not four_eyes() or actor.is_system:
        actor.require("risk.profile.activate")
        return
    actor.require("risk.profile.approve")
    if actor.user_id is None or actor.user_id == author_id:
        raise ValidationError(
            {
                "status": f"{what} was written by you: with four-eyes activation a second "
                "analyst or a supervisor approves it"
            }
        )


def may_activate(actor: Actor, author_id: int | None) -> bool:
    """Show the activation button to this user?"""
    if not four_eyes() or actor.is_system:
        return actor.can("risk.profile.activate")
    return actor.can("risk.profile.approve") and actor.user_id not in (None, author_id)


def activate_draft(profile: RiskProfile, *, actor: Actor) -> RiskProfile:
    """Swap the simulated next version in (the caller locked the row and bumps the engine
    in the same transaction)."""
    draft = pending_draft(profile)
    if draft is None:
        raise ValidationError({"status": "this profile has no next version to activate"})
    if draft.state != "simulated":
        raise ValidationError(
            {"status": f"version {draft.version} must be simulated before it is activated"}
        )
    check_approver(actor, draft.changed_by_id, f"Version {draft.version}")
    for key, value in values_from_snapshot(draft.snapshot).items():
        setattr(profile, key, value)
    profile.author_id = draft.changed_by_id
    profile.last_simulation = draft.simulation
    profile.version = draft.version
    profile.draft_version = None
    draft.state = "active"
    draft.snapshot = {**draft.snapshot, "status": "active"}
    draft.approved_by_id = actor.user_id
    draft.approved_by_name = actor.username
    draft.approved_dt = now_utc()
    db.session.flush()
    return profile


def shown_status(profile: RiskProfile, now: datetime | None = None) -> str:
    """The status as the list shows it: an active profile not yet valid is 'scheduled',
    one past its validity 'expired'."""
    if profile.status != "active":
        return profile.status
    now = now or now_utc()
    start, end = as_utc(profile.valid_from_dt), as_utc(profile.valid_to_dt)
    if start is not None and now < start:
        return "scheduled"
    if end is not None and now >= end:
        return "expired"
    return "active"


# --- errors in words ----------------------------------------------------------------------

_LABELS = {
    "name": "Name",
    "risk_area": "Risk area",
    "assessment": "Assessment",
    "channel": "Channel",
    "instructions": "Instructions",
    "recipients": "Recipients",
    "valid_from": "Valid from",
    "valid_to": "Valid until",
    "status": "Status",
    "profile": "Profile",
}
_PARTS = {
    "field": "field",
    "op": "operator",
    "value": "value",
    "join": "combination",
    "conditions": "conditions",
}
_STEP = re.compile(r"conditions\[(\d+)\]")
#: messages that read on after the name of what they are about ("value must be a number")
_PREDICATE = ("must ", "is ", "are ", "has ", "have ", "does ", "add ")
_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def _join(label: str, message: str, sep: str = ": ") -> str:
    return f"{label} {message}" if message.startswith(_PREDICATE) else f"{label}{sep}{message}"


def error_in_words(path: str, message: str) -> str:
    """'conditions.conditions[0].value[0]' + 'must be a number' ->
    'Condition 1: value must be a number' (groups number their conditions 2.1, 2.2 ...);
    a message that is no predicate follows a comma: 'Condition 1, value: low is above high'."""
    if path == "conditions":
        return f"Conditions: {message}"
    if not path.startswith("conditions."):
        head, _, rest = path.partition(".")
        label = _LABELS.get(head, head.replace("_", " ").capitalize())
        if rest:
            label += f" ({_PART.sub(lambda m: m[1], rest).replace('_', ' ')})"
        return _join(label, message)
    steps, rest = [], []
    for part in path.split(".")[1:]:
        match = _STEP.fullmatch(part)
        if match and not rest:
            steps.append(str(int(match[1]) + 1))
        else:
            rest.append(part)
    where = f"Condition {'.'.join(steps)}" if steps else "The rule"
    if not rest:
        return f"{where}: {message}"
    match = _PART.fullmatch(rest[0])
    if match is None:
        return f"{where}: {message}"
    part = _PARTS.get(match[1], match[1].replace("_", " "))
    if match[2] is not None and int(match[2]) > 0:
        part += f" {int(match[2]) + 1}"
    if message.startswith(_PREDICATE):
        return f"{where}: {part} {message}"
    return f"{where}, {part}: {message}"


def errors_in_words(fields: dict) -> dict:
    """The same keys (the editor places each error next to its condition by them), the
    messages in words."""
    return {path: error_in_words(path, message) for path, message in fields.items()}
