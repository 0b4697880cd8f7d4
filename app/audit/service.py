"""Behavioural trader ratings: computation, history, lookup and the assessment report."""

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, func, or_, select, true, update

from app.audit.models import BANDS, TRADER_ROLES, AuditSettings, RiskModel, TraderRating
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.jobs.testing import crash_point
from app.security import trail
from app.security.access import AccessDenied, Actor

#: bump when the rating formula changes (stored with every rating)
RATING_METHOD = "behaviour-1"
#: pseudo-count of the Bayesian non-compliance estimate (the prior weighs like 4 inspections)
PRIOR_WEIGHT = 4.0
#: recency: a control result loses half its weight after this many days
HALF_LIFE_DAYS = 180
MIN_PRIOR = 0.02
#: how strongly a trader's deviation from the average non-compliance rate moves the score
SPREAD = 1.5
HIGH_BAND = 70.0
MEDIUM_BAND = 40.0
#: log-odds added by each behavioural factor (on top of the non-compliance estimate).
#: Undervaluation and new chapters were weighed on a time split inside KCS train.csv
#: (Jan-Sep rated, Oct-Dec checked): unit-value deviation barely predicts there, so it
#: explains more than it moves.
WEIGHTS = {
    "undervaluation": 0.3,
    "new_chapters": 0.4,
    "seizure": 1.2,
    "critical": 0.5,
    "audit_findings": 1.0,
    "ml": 0.6,
}
#: fraud type on control results -> audit risk area (app.cases.catalog.RISK_AREAS)
FRAUD_AREAS = {
    "undervaluation": "valuation",
    "misclassification": "classification",
    "origin": "origin",
    "prohibited": "prohibitions",
    "ipr": "prohibitions",
}


def band_for(score: float) -> str:
    if score >= HIGH_BAND:
        return "high"
    if score >= MEDIUM_BAND:
        return "medium"
    return "low"


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def require_any(actor: Actor, *permissions: str) -> None:
    if not any(actor.can(p) for p in permissions):
        raise AccessDenied(f"Your role does not allow this ({' or '.join(permissions)}).")


def get_settings() -> AuditSettings:
    settings = db.session.scalar(select(AuditSettings).limit(1))
    if settings is None:
        settings = AuditSettings()
        db.session.add(settings)
        db.session.flush()
    return settings


def update_settings(
    *, actor: Actor, exploration_share=None, recent_audit_months=None, rating_window_months=None
) -> AuditSettings:
    """Change the exploration share and selection defaults (risk analysts)."""
    actor.require("risk.model.manage")
    settings = get_settings()
    errors = {}
    if exploration_share is not None:
        try:
            share = float(exploration_share)
        except (TypeError, ValueError):
            share = -1
        if not 0.0 <= share <= 0.5:
            errors["exploration_share"] = "must be a share between 0 and 0.5"
        else:
            settings.exploration_share = share
    for name, value, lo, hi in (
        ("recent_audit_months", recent_audit_months, 0, 120),
        ("rating_window_months", rating_window_months, 1, 60),
    ):
        if value is None:
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = lo - 1
        if not lo <= number <= hi:
            errors[name] = f"must be a whole number from {lo} to {hi}"
        else:
            setattr(settings, name, number)
    if errors:
        raise ValidationError(errors)
    db.session.flush()
    return settings


def _active_model_version() -> int | None:
    return db.session.scalar(select(RiskModel.version).where(RiskModel.status == "active"))


def _audit_findings() -> dict[int, str]:
    """Entity id -> reference of an audit case with findings or an assessed debt (read only,
    through the cases domain's queries)."""
    from app.cases.queries import audit_findings_by_trader

    return audit_findings_by_trader()


def _declaration_frame(start: date, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per declaration with what the rating needs, and (declaration, HS chapter)."""
    from app.audit.history import item_frame

    items = item_frame(start, as_of)
    if items.empty:
        return items, items
    luv = np.log1p(
        items["value"].fillna(0).clip(lower=0) / items["mass_kg"].fillna(0).clip(lower=0.001)
    )
    median = luv.groupby(items["hs6"]).transform("median")
    peers = items.groupby("hs6")["hs6"].transform("size")
    # Deviations only mean something where the subheading has a few peers.
    items["uv_dev"] = np.where(peers >= 5, luv - median, np.nan)
    items["duty"] = items["value"].fillna(0) * items["tax_rate"].fillna(0) / 100.0
    grouped = items.groupby("declaration_id", sort=False)
    frame = grouped.agg(
        date=("declaration_date", "first"),
        importer=("importer_code", "first"),
        declarant=("declarant_code", "first"),
        courier=("courier_code", "first"),
        importer_entity=("importer_entity_id", "first"),
        declarant_entity=("declarant_entity_id", "first"),
        courier_entity=("courier_entity_id", "first"),
        inspected=("is_inspected", "first"),
        item_label_max=("label", "max"),
        fraud_type=("fraud_type", "first"),
        critical=("is_critical", "first"),
        seized=("is_goods_seized", "first"),
        ml_score=("decl_ml_score", "first"),
        value=("value", "sum"),
        duty=("duty", "sum"),
        uv_dev=("uv_dev", "median"),
    )
    frame["inspected"] = frame["inspected"].astype(bool)
    frame["noncompliant"] = frame["inspected"] & (frame["item_label_max"] == 1)
    frame["critical"] = frame["critical"].fillna(False).astype(bool) & frame["noncompliant"]
    frame["seized"] = frame["seized"].fillna(False).astype(bool)
    frame["age_days"] = (pd.Timestamp(as_of) - frame["date"]).dt.days.clip(lower=0)
    frame["weight"] = 0.5 ** (frame["age_days"] / HALF_LIFE_DAYS)
    frame["recent"] = frame["date"] >= pd.Timestamp(as_of) - pd.Timedelta(days=90)
    chapters = items[["declaration_id", "hs2"]].drop_duplicates()
    return frame, chapters


def _new_chapters(part: pd.DataFrame, chapters: pd.DataFrame, code_col: str) -> dict:
    """code -> HS chapters declared this quarter but not in the months before."""
    joined = chapters.merge(part[[code_col, "recent"]], left_on="declaration_id", right_index=True)
    if joined.empty:
        return {}
    by = joined.groupby([code_col, "hs2"])["recent"].agg(["min", "max"]).reset_index()
    has_older = by.groupby(code_col)["min"].transform(lambda s: (~s).any())
    new = by[(by["min"]) & has_older]  # only ever seen recently, by a trader with a past
    return new.groupby(code_col)["hs2"].agg(lambda s: sorted(s)).to_dict()


def _aggregate_role(part: pd.DataFrame, code_col: str, entity_col: str) -> pd.DataFrame:
    """One row per trader code of the role: counts, recency-weighted sums and the means."""
    part["w_insp"] = part["weight"] * part["inspected"]
    part["w_nc"] = part["weight"] * part["noncompliant"]
    part["ml_recent"] = part["ml_score"].where(part["recent"])
    return part.groupby(code_col, sort=False).agg(
        n=("date", "size"),
        n_insp=("inspected", "sum"),
        n_nc=("noncompliant", "sum"),
        w_insp=("w_insp", "sum"),
        w_nc=("w_nc", "sum"),
        uv_dev=("uv_dev", "median"),
        n_seized=("seized", "sum"),
        n_crit=("critical", "sum"),
        entity=(entity_col, "last"),
        ml_recent=("ml_recent", "mean"),
        value=("value", "sum"),
        duty=("duty", "sum"),
    )


def _history(r, prior: float, base: float, window_months: int) -> tuple[float, dict]:
    """The log-odds from the trader's own control results, shrunk towards the prior, and the
    factor that says so. Recency shifts the rate towards recent results without shrinking
    the evidence."""
    rate = r.w_nc / r.w_insp if r.w_insp else prior
    p = (r.n_insp * rate + PRIOR_WEIGHT * prior) / (r.n_insp + PRIOR_WEIGHT)
    logit = base + SPREAD * (_logit(p) - base)
    n_insp, n_nc = int(r.n_insp), int(r.n_nc)
    if n_insp:
        text = f"{n_nc} of {n_insp} inspected declarations non-compliant in {window_months} months"
        return logit, {"text": text, "points": round(logit - base, 3), "area": None}
    text = f"no inspected declarations in {window_months} months"
    return logit, {"text": text, "points": 0.0, "area": None}


def _signals(r, new: list | None, entity_id, findings: dict) -> list[tuple[dict, float]]:
    """The other risk signals, each as (factor, points added to the log-odds)."""
    out = []
    if pd.notna(r.uv_dev) and r.uv_dev < math.log(0.7):
        points = WEIGHTS["undervaluation"] * min(1.0, -r.uv_dev)
        text = f"unit values {1 - math.exp(r.uv_dev):.0%} below HS6 peers"
        out.append(({"text": text, "points": round(points, 3), "area": "valuation"}, points))
    if new:
        points = WEIGHTS["new_chapters"] * min(1.0, len(new) / 2)
        text = f"new HS chapters this quarter ({', '.join(new[:5])})"
        out.append(({"text": text, "points": round(points, 3), "area": "classification"}, points))
    fixed = []
    if r.n_seized:
        n = int(r.n_seized)
        fixed.append(
            ("seizure", f"linked to {n} seizure{'s' if n > 1 else ''} at control", "prohibitions")
        )
    if r.n_crit:
        n = int(r.n_crit)
        fixed.append(
            (
                "critical",
                f"{n} critical (public safety) finding{'s' if n > 1 else ''}",
                "prohibitions",
            )
        )
    if entity_id is not None and entity_id in findings:
        fixed.append(("audit_findings", f"audit findings in case {findings[entity_id]}", None))
    if pd.notna(r.ml_recent) and r.ml_recent >= 0.5:
        text = f"recent declarations score high on the ML model (mean {r.ml_recent:.2f})"
        fixed.append(("ml", text, None))
    for weight, text, area in fixed:
        out.append(({"text": text, "points": WEIGHTS[weight], "area": area}, WEIGHTS[weight]))
    return out


def _rate_role(
    frame: pd.DataFrame,
    chapters: pd.DataFrame,
    role: str,
    prior: float,
    findings: dict,
    window_months: int,
) -> list[dict]:
    code_col, entity_col = role, f"{role}_entity"
    part = frame[frame[code_col].fillna("") != ""].copy()
    if part.empty:
        return []
    agg = _aggregate_role(part, code_col, entity_col)
    nc = part[part["noncompliant"] & part["fraud_type"].notna()]
    fraud_types = nc.groupby(code_col)["fraud_type"].agg(lambda s: list(dict.fromkeys(s)))
    fraud_types = fraud_types.to_dict()
    new_chapters = _new_chapters(part, chapters, code_col)
    out = []
    base = _logit(prior)
    for code, r in zip(agg.index, agg.itertuples(index=False), strict=True):
        logit, factor = _history(r, prior, base, window_months)
        factors = [factor]
        areas = list(
            dict.fromkeys(FRAUD_AREAS[t] for t in fraud_types.get(code, ()) if FRAUD_AREAS.get(t))
        )
        entity_id = int(r.entity) if pd.notna(r.entity) else None
        for factor, points in _signals(r, new_chapters.get(code), entity_id, findings):
            factors.append(factor)
            logit += points
        score = round(100.0 / (1.0 + math.exp(-logit)), 1)
        areas += [
            a for a in dict.fromkeys(f["area"] for f in factors if f["area"]) if a not in areas
        ]
        factors.sort(key=lambda f: -f["points"])
        out.append(
            {
                "role": role,
                "trader_code": str(code),
                "entity_id": entity_id,
                "score": score,
                "band": band_for(score),
                "factors": factors,
                "risk_areas": areas or ["valuation"],
                "n_declarations": int(r.n),
                "n_inspected": int(r.n_insp),
                "n_noncompliant": int(r.n_nc),
                "declared_value": float(r.value),
                "expected_yield": round(score / 100.0 * float(r.duty), 2),
            }
        )
    return out


def compute_ratings(*, actor: Actor, as_of: date | None = None, roles=None) -> dict:
    """Recompute every trader's rating from the history up to ``as_of``; keeps history.

    ``as_of`` is the evaluation date the user or the job sets, today (the clock) by default,
    never the newest declaration's date: declarations dated after it are ignored and
    counted (``ignored_after``). A new rating row is written only when the score, band or
    factors changed, so the history shows changes rather than one row per scheduled run.
    """
    from app.risk.service import declarations_dated_after

    require_any(actor, "audit.select", "risk.model.manage")
    settings = get_settings()
    as_of = as_of or now_utc().date()
    start = as_of - timedelta(days=int(settings.rating_window_months * 30.44))
    roles = tuple(roles or TRADER_ROLES)
    for role in roles:
        if role not in TRADER_ROLES:
            raise ValidationError({"roles": f"unknown trader role {role!r}"})
    frame, chapters = _declaration_frame(start, as_of)
    ml_version = _active_model_version()
    version = f"{RATING_METHOD}/ml-{ml_version}" if ml_version else RATING_METHOD
    summary = {
        "as_of": as_of.isoformat(),
        "model_version": version,
        "rated": 0,
        "changed": 0,
        "ignored_after": declarations_dated_after(as_of),
    }
    if frame.empty:
        return summary
    inspected = frame[frame["inspected"]]
    # A floor keeps the log-odds finite when the window holds no non-compliance at all.
    prior = max(MIN_PRIOR, float(inspected["noncompliant"].mean()) if len(inspected) else 0.1)
    findings = _audit_findings()
    now = now_utc()
    for role in roles:
        computed = _rate_role(frame, chapters, role, prior, findings, settings.rating_window_months)
        current = {
            r.trader_code: r
            for r in db.session.scalars(
                select(TraderRating).where(
                    TraderRating.role == role, TraderRating.is_current.is_(True)
                )
            )
        }
        retire, new_rows = [], []
        for row in computed:
            old = current.get(row["trader_code"])
            if (
                old is not None
                and abs(old.score - row["score"]) < 0.5
                and old.band == row["band"]
                and [f["text"] for f in old.factors] == [f["text"] for f in row["factors"]]
            ):
                continue
            if old is not None:
                retire.append(old.id)
            new_rows.append(
                TraderRating(
                    **row, model_version=version, as_of=as_of, computed_dt=now, is_current=True
                )
            )
        for chunk in range(0, len(retire), 500):
            db.session.execute(
                update(TraderRating)
                .where(TraderRating.id.in_(retire[chunk : chunk + 500]))
                .values(is_current=False)
            )
        db.session.add_all(new_rows)
        summary["rated"] += len(computed)
        summary["changed"] += len(new_rows)
        # Crash tests stop the recomputation here: one role's ratings written, not committed.
        db.session.flush()
        crash_point("audit.ratings.role", role=role, changed=len(new_rows))
    db.session.flush()
    return summary


# --- reading -----------------------------------------------------------------------------


def describe_summary(summary: dict) -> str:
    """The recomputation's result in words (flash message, job log)."""
    text = (
        f"Ratings recomputed as of {summary['as_of']}: {summary['rated']} traders rated, "
        f"{summary['changed']} changed."
    )
    ignored = summary.get("ignored_after") or 0
    if ignored:
        text += (
            f" {ignored} declaration{'s' if ignored != 1 else ''} dated after "
            f"{summary['as_of']} {'were' if ignored != 1 else 'was'} ignored."
        )
    return text


def trader_names(entity_ids, *, actor: Actor) -> dict[int, str]:
    """Entity id -> registry name, for the entities the actor may see (intel service)."""
    from app.intel import service as intel

    return {i: f["name"] for i, f in intel.trader_facts(entity_ids, actor=actor).items()}


#: built once: asked for every declaration assessed
_CURRENT_RATINGS = (
    select(TraderRating.trader_code, func.max(TraderRating.score))
    .where(
        TraderRating.is_current.is_(True),
        TraderRating.trader_code.in_(bindparam("codes", expanding=True)),
    )
    .group_by(TraderRating.trader_code)
)


def current_ratings_for(codes: list[str]) -> dict[str, float]:
    """Rating provider for the selectivity engine: code -> highest current score."""
    codes = [c for c in dict.fromkeys(codes) if c]
    if not codes:
        return {}
    rows = db.session.execute(_CURRENT_RATINGS, {"codes": codes}).all()
    return {code: float(score) for code, score in rows}


def rating_of_entity(entity_id: int) -> TraderRating | None:
    """The riskiest current rating held by a registry entity (any role)."""
    return db.session.scalar(
        select(TraderRating)
        .where(TraderRating.entity_id == entity_id, TraderRating.is_current.is_(True))
        .order_by(TraderRating.score.desc())
        .limit(1)
    )


def _named_to(actor: Actor):
    """Ratings whose trader code the actor may read: some declaration the actor may see
    bears it in that role (a code only on another unit's code-C declarations stays out)."""
    from app.risk.service import visible_code_clause

    if actor.is_system:
        return true()
    return or_(
        *(
            and_(
                TraderRating.role == role,
                visible_code_clause(actor, role, TraderRating.trader_code),
            )
            for role in TRADER_ROLES
        )
    )


def list_ratings(*, actor: Actor, role=None, band=None, query=None):
    """SELECT of current ratings, riskiest first (the caller paginates)."""
    actor.require("audit.rating.view")
    stmt = select(TraderRating).where(TraderRating.is_current.is_(True), _named_to(actor))
    if role:
        if role not in TRADER_ROLES:
            raise ValidationError({"role": f"unknown role {role!r}"})
        stmt = stmt.where(TraderRating.role == role)
    if band:
        if band not in BANDS:
            raise ValidationError({"band": f"unknown band {band!r}"})
        stmt = stmt.where(TraderRating.band == band)
    if query:
        text = query.strip()[:40].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(TraderRating.trader_code.ilike(f"%{text}%", escape="\\"))
        trail.record(actor, "search", "trader_rating", None, query=query.strip()[:200])
    return stmt.order_by(TraderRating.score.desc(), TraderRating.trader_code)


def trader_report(role: str, code: str, *, actor: Actor, action: str = "view") -> dict:
    """The AEO-style assessment report: current rating, history, factors, findings."""
    actor.require("audit.rating.view")
    if role not in TRADER_ROLES:
        raise ValidationError({"role": f"unknown role {role!r}"})
    history = db.session.scalars(
        select(TraderRating)
        .where(TraderRating.role == role, TraderRating.trader_code == code, _named_to(actor))
        .order_by(TraderRating.computed_dt.desc(), TraderRating.id.desc())
    ).all()
    if not history:
        from app.security.access import NotFound

        raise NotFound("No rating for this trader.")
    trail.record(actor, action, "trader_rating", f"{role}:{code}")
    current = next((r for r in history if r.is_current), history[0])
    audits = _audit_cases_of(current.entity_id)
    return {"role": role, "code": code, "current": current, "history": history, "audits": audits}


def _audit_cases_of(entity_id: int | None) -> list[dict]:
    """Audit cases of the trader (reference, status, findings, debt), read only."""
    if entity_id is None:
        return []
    from app.cases.queries import audit_cases_of_trader

    return audit_cases_of_trader(entity_id)


def recent_ratings(limit: int = 8, *, actor: Actor) -> list[TraderRating]:
    return list(
        db.session.scalars(
            select(TraderRating)
            .where(TraderRating.is_current.is_(True), _named_to(actor))
            .order_by(TraderRating.computed_dt.desc(), TraderRating.score.desc())
            .limit(limit)
        )
    )


def band_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(TraderRating.band, func.count())
        .where(TraderRating.is_current.is_(True))
        .group_by(TraderRating.band)
    ).all()
    return {band: count for band, count in rows}
