"""Selectivity parameters: the engine version counter, random seed, rates and ML threshold."""

import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationError
from app.extensions import db
from app.risk.models import CHANNELS, EngineState, SelectivityRate

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


def set_rates(values: dict, *, actor) -> dict:
    """Set per-channel target and minimum random rates (shares 0..1).

    ``values`` maps channel -> {"target_rate", "min_random_rate"}. Random shares of all
    lanes together stay below 50%: random selection supplements targeting, it is not the rule.
    """
    actor.require("risk.profile.activate")
    errors = {}
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
    if errors:
        raise ValidationError(errors)
    rows = {r.channel: r for r in db.session.scalars(select(SelectivityRate))}
    for channel, entry in merged.items():
        row = rows.get(channel)
        if row is None:
            row = SelectivityRate(channel=channel)
            db.session.add(row)
        row.target_rate = entry["target_rate"]
        row.min_random_rate = entry["min_random_rate"]
        row.updated_by_id = actor.user_id
    bump_version()
    return merged


def set_ml_threshold(threshold: float | None, channel: str, *, actor) -> None:
    """Items scored at or above ``threshold`` send the declaration at least to ``channel``."""
    actor.require("risk.profile.activate")
    errors = {}
    if threshold is not None and not 0 < threshold <= 1:
        errors["ml_threshold"] = "must be above 0 and at most 1 (or empty to ignore scores)"
    if channel not in CHANNELS or channel == "green":
        errors["ml_channel"] = "must be a control lane (blue, yellow, orange or red)"
    if errors:
        raise ValidationError(errors)
    state = engine_state()
    state.ml_threshold = threshold
    state.ml_channel = channel
    bump_version()
