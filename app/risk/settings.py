"""Selectivity parameters: the engine version counter, random seed, rates and ML threshold.

Every change of rates, threshold or seed is also a ``SettingsVersion`` (who, when, what
changed; trailed), written in the same transaction: the latest version is the settings in
force."""

import hashlib
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationError
from app.extensions import db
from app.risk.models import CHANNELS, EngineState, SelectivityRate, SettingsVersion

#: ASYCUDA-like defaults: expected share per lane and a minimum random share per lane
DEFAULT_RATES = {
    "green": (0.70, 0.0),
    "blue": (0.05, 0.0),
    "yellow": (0.12, 0.02),
    "orange": (0.05, 0.0),
    "red": (0.08, 0.01),
}


def engine_state() -> EngineState:
    """The one engine-state row (created on first use)."""
    state = db.session.get(EngineState, 1)
    if state is None:
        try:
            # Several web processes may meet an empty table at once: one insert wins.
            with db.session.begin_nested():
                state = EngineState(
                    id=1,
                    version=1,
                    random_seed=secrets.token_hex(16),
                    ml_threshold=None,
                    ml_channel="yellow",
                )
                db.session.add(state)
                db.session.flush()
        except IntegrityError:
            state = db.session.get(EngineState, 1, populate_existing=True)
    return state


def bump_version() -> int:
    """Tell every process to recompile (call after any change to what the engine uses)."""
    engine_state()
    db.session.execute(
        update(EngineState).where(EngineState.id == 1).values(version=EngineState.version + 1)
    )
    db.session.flush()
    db.session.expire_all()
    return engine_state().version


def selectivity_rates() -> dict[str, dict]:
    """channel -> {"target_rate", "min_random_rate"} (defaults for lanes never set)."""
    rows = {r.channel: r for r in db.session.scalars(select(SelectivityRate))}
    out = {}
    for channel in CHANNELS:
        row = rows.get(channel)
        target, rnd = DEFAULT_RATES[channel]
        out[channel] = {
            "target_rate": row.target_rate if row else target,
            "min_random_rate": row.min_random_rate if row else rnd,
        }
    return out


def _check_rates(values: dict, errors: dict) -> dict:
    """The merged rates after ``values`` (channel -> {"target_rate", "min_random_rate"})."""
    clean = {}
    for channel, entry in values.items():
        if channel not in CHANNELS:
            errors[channel] = "unknown channel"
            continue
        clean[channel] = {}
        for key in ("target_rate", "min_random_rate"):
            raw = (entry or {}).get(key)
            try:
                number = float(raw)
            except (TypeError, ValueError):
                errors[f"{channel}.{key}"] = "must be a number between 0 and 1"
                continue
            if not 0 <= number <= 1:
                errors[f"{channel}.{key}"] = "must be between 0 and 1"
                continue
            clean[channel][key] = number
    if "green" in clean and clean["green"].get("min_random_rate", 0) > 0:
        errors["green.min_random_rate"] = "random selection sends declarations to a control lane"
    merged = selectivity_rates()
    for channel, entry in clean.items():
        merged[channel].update(entry)
    if sum(v["min_random_rate"] for v in merged.values()) >= 0.5:
        errors["min_random_rate"] = "random rates of all lanes together must stay below 0.5"
    total = sum(v["target_rate"] for v in merged.values())
    if total > 1 + 1e-9:
        errors["target_rate"] = (
            f"the channel targets add up to {100 * total:g} %; together they must be at most 100 %"
        )
    return merged


def _apply_rates(merged: dict, actor) -> None:
    rows = {r.channel: r for r in db.session.scalars(select(SelectivityRate))}
    for channel, entry in merged.items():
        row = rows.get(channel)
        if row is None:
            row = SelectivityRate(channel=channel)
            db.session.add(row)
        row.target_rate = entry["target_rate"]
        row.min_random_rate = entry["min_random_rate"]
        row.updated_by_id = actor.user_id


def _check_ml(threshold, channel, errors: dict) -> None:
    if threshold is not None and not 0 < threshold <= 1:
        errors["ml_threshold"] = "must be above 0 and at most 1 (or empty to ignore scores)"
    if channel not in CHANNELS or channel == "green":
        errors["ml_channel"] = "must be a control lane (blue, yellow, orange or red)"


def set_rates(values: dict, *, actor) -> dict:
    """Set per-channel target and minimum random rates (shares 0..1).

    ``values`` maps channel -> {"target_rate", "min_random_rate"}. Random shares of all
    lanes together stay below 50%: random selection supplements targeting, it is not the rule;
    targets together are at most 100%.
    """
    actor.require("risk.profile.activate")
    errors = {}
    merged = _check_rates(values, errors)
    if errors:
        raise ValidationError(errors)
    before = current_values()
    _apply_rates(merged, actor)
    bump_version()
    record_change(before, actor=actor)
    return merged


def set_ml_threshold(threshold: float | None, channel: str, *, actor) -> None:
    """Items scored at or above ``threshold`` send the declaration at least to ``channel``."""
    actor.require("risk.profile.activate")
    errors = {}
    _check_ml(threshold, channel, errors)
    if errors:
        raise ValidationError(errors)
    before = current_values()
    state = engine_state()
    state.ml_threshold = threshold
    state.ml_channel = channel
    bump_version()
    record_change(before, actor=actor)


def save_settings(rates: dict, threshold, ml_channel: str, *, rotate_seed=False, actor):
    """The settings page: rates, ML threshold and lane (and a new seed), checked together,
    saved together as one version. Errors name the field; nothing is saved on any error."""
    actor.require("risk.profile.activate")
    errors = {}
    merged = _check_rates(rates, errors)
    _check_ml(threshold, ml_channel, errors)
    if errors:
        raise ValidationError(errors)
    before = current_values()
    _apply_rates(merged, actor)
    state = engine_state()
    state.ml_threshold = threshold
    state.ml_channel = ml_channel
    if rotate_seed:
        state.random_seed = secrets.token_hex(16)
    bump_version()
    return record_change(before, actor=actor)


def rotate_seed(*, actor) -> SettingsVersion | None:
    """A new secret seed for the random draws (the history shows its fingerprint)."""
    actor.require("risk.profile.activate")
    before = current_values()
    engine_state().random_seed = secrets.token_hex(16)
    bump_version()
    return record_change(before, actor=actor)


# --- history ------------------------------------------------------------------------------


def _fingerprint(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def current_values() -> dict:
    """The settings in force, as a version stores them (the seed by its fingerprint)."""
    state = engine_state()
    return {
        "rates": selectivity_rates(),
        "ml_threshold": state.ml_threshold,
        "ml_channel": state.ml_channel,
        "seed_fingerprint": _fingerprint(state.random_seed),
    }


def _describe_changes(old: dict, new: dict) -> list[str]:
    out = []
    for channel in CHANNELS:
        for key, label in (("target_rate", "target"), ("min_random_rate", "minimum random")):
            a = old["rates"].get(channel, {}).get(key)
            b = new["rates"][channel][key]
            if a != b:
                shown = "—" if a is None else f"{100 * a:g} %"
                out.append(f"{channel} {label}: {shown} → {100 * b:g} %")
    for key, label in (("ml_threshold", "ML threshold"), ("ml_channel", "ML lane")):
        if old.get(key) != new.get(key):
            out.append(f"{label}: {old.get(key) or '—'} → {new.get(key) or '—'}")
    if old.get("seed_fingerprint") != new.get("seed_fingerprint"):
        out.append(f"random seed: {old.get('seed_fingerprint')} → {new['seed_fingerprint']}")
    return out


def history(limit: int = 50) -> list[SettingsVersion]:
    return list(
        db.session.scalars(
            select(SettingsVersion).order_by(SettingsVersion.version.desc()).limit(limit)
        )
    )


def record_change(before: dict, *, actor) -> SettingsVersion | None:
    """A new version when the settings changed (the first one also records what was in
    force before it), trailed as an update of the settings."""
    from app.security import trail

    after = current_values()
    changes = _describe_changes(before, after)
    if not changes:
        return None
    last = db.session.scalar(select(func.max(SettingsVersion.version))) or 0
    if last == 0:
        db.session.add(
            SettingsVersion(
                version=1,
                values=before,
                changes=["settings in force before the first recorded change"],
                changed_by_name="system",
            )
        )
        last = 1
    row = SettingsVersion(
        version=last + 1,
        values=after,
        changes=changes,
        changed_by_id=actor.user_id,
        changed_by_name=actor.username,
    )
    db.session.add(row)
    db.session.flush()
    trail.record(actor, "update", "risk_settings", row.version, details={"changes": changes[:50]})
    return row
