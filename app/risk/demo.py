"""Demo data: realistic generated traffic (or the KCS files) and 40–60 risk profiles.

Traders have a history and a hidden propensity to commit fraud; commodities carry their own
typical fraud (undervaluation of textiles, misclassification of electronics, origin of steel,
counterfeit footwear, smuggled cigarettes ...). Declarations are assessed by the engine with
the demo profiles active, and the controlled ones receive control results.
"""

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.risk import profiles as profile_service
from app.risk.demo_profiles import demo_profiles
from app.risk.models import ControlResult, Declaration, RiskProfile
from app.security.access import Actor

#: hs code, description, typical origins, value per kg (low, high), tax rate, fraud type
COMMODITIES = [
    ("0808100000", "Fresh apples", ["PL", "IT", "US", "CL"], (0.6, 1.4), 8.0, "origin"),
    ("0805100000", "Fresh oranges", ["ES", "EG", "MA", "TR"], (0.5, 1.2), 10.0, "origin"),
    (
        "2402200000",
        "Cigarettes containing tobacco",
        ["AE", "CN", "BY", "TR"],
        (25, 60),
        40.0,
        "prohibited",
    ),
    ("2208300000", "Whisky", ["GB", "IE", "US"], (8, 40), 20.0, "undervaluation"),
    ("3004900000", "Medicaments, packaged", ["IN", "DE", "CH", "CN"], (30, 400), 0.0, "ipr"),
    (
        "6109100000",
        "T-shirts of cotton",
        ["BD", "CN", "TR", "VN", "IN"],
        (8, 30),
        12.0,
        "undervaluation",
    ),
    (
        "6203420000",
        "Men's trousers of cotton",
        ["BD", "CN", "PK", "TR"],
        (10, 35),
        12.0,
        "undervaluation",
    ),
    ("6403990000", "Footwear, leather uppers", ["CN", "VN", "IT", "ID"], (15, 90), 8.0, "ipr"),
    ("7208510000", "Flat-rolled steel", ["CN", "RU", "UA", "TR", "KR"], (0.5, 1.1), 6.0, "origin"),
    ("8471300000", "Laptops", ["CN", "TW", "VN"], (150, 600), 0.0, "misclassification"),
    ("8517130000", "Smartphones", ["CN", "VN", "IN", "KR"], (300, 1500), 0.0, "undervaluation"),
    (
        "8528720000",
        "Television receivers",
        ["CN", "KR", "MX", "TR"],
        (20, 70),
        14.0,
        "misclassification",
    ),
    (
        "8703230000",
        "Passenger cars 1500-3000 cc",
        ["DE", "JP", "KR", "US"],
        (8, 30),
        10.0,
        "undervaluation",
    ),
    ("8708299000", "Car body parts", ["DE", "CN", "TR", "PL"], (4, 20), 4.5, "misclassification"),
    ("9503000000", "Toys", ["CN", "VN", "DE"], (5, 25), 4.7, "ipr"),
    ("3303000000", "Perfumes", ["FR", "AE", "CN", "IT"], (40, 200), 6.5, "ipr"),
    ("9102110000", "Wrist-watches", ["CH", "CN", "HK"], (200, 3000), 4.5, "ipr"),
    (
        "2710194100",
        "Gas oil (diesel)",
        ["RU", "AZ", "GR", "IT"],
        (0.6, 1.0),
        3.5,
        "misclassification",
    ),
    ("2106909800", "Food preparations", ["DE", "NL", "TR", "CN"], (2, 9), 9.0, "misclassification"),
    (
        "2933399900",
        "Heterocyclic compounds (precursors)",
        ["CN", "IN", "NL"],
        (20, 300),
        6.5,
        "prohibited",
    ),
    ("4011100000", "New tyres for cars", ["CN", "TH", "DE", "JP"], (2.5, 6), 4.5, "undervaluation"),
    (
        "9401610000",
        "Upholstered wooden seats",
        ["CN", "PL", "IT", "VN"],
        (4, 15),
        0.0,
        "undervaluation",
    ),
]
OFFICES = [("BCP-N", "3"), ("PORT-S", "1"), ("AIR-C", "4"), ("POST-1", "5")]
DISPATCH_HUBS = {"AE", "HK", "SG", "TR"}


def _codes(rng, prefix, n):
    return [f"{prefix}{rng.randrange(10**5, 10**6)}" for _ in range(n)]


def _traders(rng, small):
    importers = _codes(rng, "IM", 40 if small else 160)
    propensity = {code: (rng.random() ** 4) * 0.7 for code in importers}
    declarants = _codes(rng, "DC", 8 if small else 30)
    sellers = _codes(rng, "SL", 60 if small else 240)
    couriers = _codes(rng, "CR", 5)
    return importers, propensity, declarants, sellers, couriers


def generate_traffic(rng: random.Random, n: int, start: date, days: int, small=False):
    """Declaration bodies (API format) plus the truth of each: fraud type or None."""
    importers, propensity, declarants, sellers, couriers = _traders(rng, small)
    # Each importer trades mainly in two or three commodities, as real traders do.
    trade = {code: rng.sample(COMMODITIES, rng.randint(1, 3)) for code in importers}
    broker = {code: rng.choice(declarants) for code in importers}
    out = []
    for k in range(n):
        importer = rng.choice(importers)
        office, mode = rng.choice(OFFICES)
        day = start + timedelta(days=int(rng.random() * days))
        items, truth = [], None
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 5])):
            hs, desc, origins, (lo, hi), tax, fraud_kind = rng.choice(trade[importer])
            mass = round(rng.lognormvariate(4.5, 1.2), 1)
            unit_value = rng.uniform(lo, hi)
            origin = rng.choice(origins)
            fraud = rng.random() < propensity[importer] * 0.6 + 0.02
            if fraud:
                truth = fraud_kind
                if fraud_kind == "undervaluation":
                    unit_value *= rng.uniform(0.15, 0.5)
                elif fraud_kind == "origin":
                    origin = rng.choice(["VN", "MY", "TH", "TR"])
            items.append(
                {
                    "hs_code": hs,
                    "description": desc,
                    "origin": origin,
                    "departure": rng.choice([origin, origin, *DISPATCH_HUBS])
                    if mode != "3"
                    else origin,
                    "value": round(mass * unit_value, 2),
                    "mass": mass,
                    "tax_rate": tax,
                    "quantity": round(mass),
                    "quantity_unit": "kg",
                }
            )
        body = {
            "number": f"{office[:3]}{day:%y%m%d}{k:06d}",
            "date": day.isoformat(),
            "office": office,
            "procedure": rng.choice(["4000", "4000", "4000", "4071", "4200"]),
            "transport_mode": mode,
            "declarant": broker[importer],
            "importer": importer,
            "seller": rng.choice(sellers),
            "payment_type": rng.choice(["A", "A", "B", "H"]),
            "items": items,
        }
        if mode in ("4", "5"):
            body["courier"] = rng.choice(couriers)
        out.append((body, truth))
    return out, importers, propensity


def _lists(importers, propensity, actor, rng):
    ranked = sorted(importers, key=lambda c: -propensity[c])
    profile_service.save_list(
        "Watched importers",
        "trader",
        ranked[:5],
        description="Named by intelligence reports",
        actor=actor,
    )
    profile_service.save_list(
        "Watched sellers",
        "trader",
        [f"SL{rng.randrange(10**5, 10**6)}" for _ in range(4)],
        actor=actor,
    )
    profile_service.save_list("Watched declarants", "trader", ["DC000001"], actor=actor)
    profile_service.save_list("Transshipment hubs", "country", sorted(DISPATCH_HUBS), actor=actor)
    profile_service.save_list(
        "Tobacco and alcohol", "hs_code", ["2402", "2403", "2208"], actor=actor
    )
    return ranked


def _make_profiles(ranked, actor, supervisor_role=True):
    from app.security.models import Unit

    intel_unit = db.session.scalar(select(Unit.id).where(Unit.code == "HQ-INT"))
    recipients = {
        "users": [],
        "units": [intel_unit] if intel_unit else [],
        "roles": ["supervisor"] if supervisor_role else [],
    }
    for name, area, channel, tree, instructions, sensitive, status in demo_profiles(ranked):
        if db.session.scalar(select(RiskProfile.id).where(RiskProfile.name == name)):
            continue
        p = profile_service.create_profile(
            {
                "name": name,
                "risk_area": area,
                "assessment": "Demo: derived from seizure and "
                "audit findings of the last two years.",
                "channel": channel,
                "conditions": tree,
                "instructions": instructions,
                "is_sensitive": sensitive,
                "recipients": recipients if sensitive else None,
            },
            actor=actor,
        )
        if status in ("simulated", "active", "retired"):
            profile_service.mark_simulated(p, {"selected": 0, "window": "demo"}, actor=actor)
        if status == "active":
            profile_service.set_status(p.id, "active", actor=actor)
        if status == "retired":
            profile_service.set_status(p.id, "active", actor=actor)
            profile_service.set_status(p.id, "retired", actor=actor)


def _result_for(decl, truth, rng):
    inspected = decl.channel in ("red", "orange", "yellow")
    if not inspected:
        return None
    # A documentary check finds less than a physical one.
    found = (
        truth is not None
        and rng.random() < {"red": 0.95, "orange": 0.85, "yellow": 0.6}[decl.channel]
    )
    revenue = round(decl.total_value * rng.uniform(0.05, 0.4), 2) if found else 0.0
    return ControlResult(
        declaration=decl,
        is_inspected=True,
        is_compliant=not found,
        fraud_type=truth if found else None,
        revenue_recovered=revenue,
        findings=f"Demo: {truth} found." if found else "Demo: goods as declared.",
        source="demo",
    )


def load_risk_demo(options) -> None:
    """Load the demo once: lists, profiles, then traffic (generated or KCS) with results."""
    from app.risk import engine
    from app.risk.derived import refresh_peer_medians
    from app.risk.settings import selectivity_rates, set_rates
    from app.security.models import Unit

    actor = Actor.system("demo")
    rng = random.Random(20260322)  # noqa: S311 - reproducible demo data, not security
    engine.reset_cache()
    if db.session.scalar(select(func.count()).select_from(RiskProfile)) == 0:
        set_rates(
            {
                c: {"target_rate": r["target_rate"], "min_random_rate": r["min_random_rate"]}
                for c, r in selectivity_rates().items()
            },
            actor=actor,
        )
    small = bool(options.get("small"))
    kcs_dir = options.get("kcs_dir")
    today = datetime.now(UTC).date()
    traffic, importers, propensity = generate_traffic(
        rng, 500 if small else 3000, today - timedelta(days=120), 120, small
    )
    ranked = _lists(importers, propensity, actor, rng)
    _make_profiles(ranked, actor)
    from app.risk.service import owning_unit_id

    unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "HQ-RISK"))
    unit_id = unit_id or owning_unit_id(actor)
    if kcs_dir:
        from app.risk.importer import import_declarations

        for name in ("train.csv", "valid.csv"):
            path = Path(kcs_dir) / name
            if path.exists():
                import_declarations(path, actor=actor, unit_id=unit_id, on_duplicate="skip")
        return
    if db.session.scalar(select(Declaration.id).where(Declaration.source == "demo").limit(1)):
        return
    from app.core.bulk import request_index_many
    from app.risk.assessment import parse_declaration
    from app.risk.bulk import assess_stored, load_declarations, store_declarations

    # History first (peer medians need it), then assessment in date order: stored with two
    # multi-row inserts and assessed in this process as one batch (app.risk.bulk), with the
    # same assessment, channel and profile hits as declarations submitted one by one.
    traffic.sort(key=lambda t: t[0]["date"])
    parsed = [parse_declaration(body) for body, _ in traffic]
    ids = store_declarations(parsed, actor=actor, unit_id=unit_id, source="demo")
    refresh_peer_medians()
    decls = load_declarations(ids)
    request_index_many("declaration", ids)
    assess_stored(decls, actor=actor)
    by_id = {decl.id: decl for decl in decls}
    for decl_id, (_, truth) in zip(ids, traffic, strict=True):
        result = _result_for(by_id[decl_id], truth, rng)
        if result is not None:
            db.session.add(result)
    db.session.flush()
