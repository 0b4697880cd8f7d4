"""Demo cases: a few hundred seizures, offences, audits and investigations across places,
commodity areas and the last eighteen months (loader order 30: after units and entities)."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.cases import offences, parties, service
from app.cases.models import Case
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor
from app.security.models import Unit, User

PLACES = {
    "BCP-N": [
        ("bcp", "BCP Merdare"),
        ("bcp", "BCP Jarinje"),
        ("bcp", "BCP Bërnjak"),
        ("office", "Customs office Mitrovica"),
    ],
    "PORT-S": [
        ("bcp", "BCP Hani i Elezit"),
        ("bcp", "BCP Vërmica"),
        ("office", "Prishtina Airport"),
        ("office", "Customs office Prizren"),
    ],
}
#: demo place -> its entry in the demo reference lists (app/reference/data/demo)
PLACE_REFS = {
    "BCP Merdare": "crossing:BCP-MER",
    "BCP Jarinje": "crossing:BCP-JAR",
    "BCP Bërnjak": "crossing:BCP-BER",
    "BCP Hani i Elezit": "crossing:BCP-HIE",
    "BCP Vërmica": "crossing:BCP-VER",
    "Prishtina Airport": "crossing:BCP-PRN",
    "Customs office Mitrovica": "office:MIT",
    "Customs office Prizren": "office:PRZ",
}


def _place_ref(place: str) -> str | None:
    """The seizure's place on the reference lists, when the demo lists are loaded."""
    from app.cases import places

    try:
        return places.parse(PLACE_REFS.get(place), "place_ref")
    except ValidationError:
        return None


#: area -> [(description, hs, unit, qty range, value per unit EUR)]
GOODS = {
    "tobacco": [
        ("Cigarettes, no excise stamps", "240220", "sticks", (2000, 400000), 0.22),
        ("Water-pipe tobacco", "240311", "kg", (5, 400), 28.0),
    ],
    "drugs": [
        ("Cannabis herb", "121190", "kg", (1, 180), 2500.0),
        ("Heroin", "293911", "kg", (0.2, 25), 22000.0),
        ("Cocaine", "293991", "kg", (0.1, 12), 45000.0),
    ],
    "alcohol": [("Spirits, undeclared", "220860", "l", (20, 3000), 9.0)],
    "weapons": [
        ("Pistols", "930200", "pcs", (1, 12), 650.0),
        ("Ammunition 9 mm", "930630", "pcs", (50, 5000), 0.6),
    ],
    "ipr": [
        ("Counterfeit sports shoes", "640411", "pcs", (20, 1500), 45.0),
        ("Counterfeit handbags", "420221", "pcs", (10, 600), 120.0),
    ],
    "currency": [("Undeclared cash (EUR)", None, "eur", (12000, 350000), 1.0)],
    "cites": [("Live tortoises (Testudo hermanni)", "010620", "specimens", (3, 60), 80.0)],
    "precursors": [("Acetic anhydride", "291524", "l", (50, 2000), 4.0)],
    "cultural": [("Ottoman-era coins", "970500", "pcs", (5, 300), 150.0)],
    "other": [
        ("Medicines without authorisation", "300490", "packs", (20, 2000), 15.0),
        ("Fuel in additional tanks", "271019", "l", (100, 900), 1.4),
    ],
}
AREA_WEIGHTS = {
    "tobacco": 30,
    "drugs": 14,
    "alcohol": 8,
    "weapons": 6,
    "ipr": 14,
    "currency": 8,
    "cites": 3,
    "precursors": 2,
    "cultural": 2,
    "other": 13,
}
ROUTES = [
    ("TR", "BG, RS", "DE"),
    ("AL", "", "XK"),
    ("MK", "", "XK"),
    ("RS", "", "XK"),
    ("XK", "AL", "IT"),
    ("CN", "TR, BG", "XK"),
    ("AE", "", "XK"),
    ("XK", "ME", "HR"),
]
SURNAMES = [
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Morina",
    "Shala",
    "Hoxha",
    "Bytyqi",
    "Kryeziu",
    "Petrović",
    "Jovanović",
    "Demir",
    "Yilmaz",
    "Novak",
    "Popescu",
]
GIVEN = [
    "Arben",
    "Besnik",
    "Driton",
    "Fatmir",
    "Milan",
    "Stefan",
    "Mehmet",
    "Ahmet",
    "Ivan",
    "Luan",
    "Valon",
    "Ana",
    "Elira",
    "Marko",
]
COMPANIES = [
    "Euro-Trans Logistics LLC",
    "Balkan Fresh Trade",
    "Dardania Import-Export",
    "Anadolu Tekstil Ltd",
    "Adriatic Freight Forwarders",
    "Kosova Tobacco Distribution",
    "Alpine Auto Parts GmbH",
    "Sharri Wholesale",
]
DEMO_PREFIX = "demo:"
CONCEALMENTS = [
    "false_compartment",
    "cargo_mixed",
    "luggage",
    "vehicle_structure",
    "misdeclared",
    "none",
]


def _entities(actor, rng):
    """A small pool of persons, companies and vehicles from the registry for the parties
    (registered in one batch: app.intel.bulk)."""
    from app.intel.bulk import EntityBatch

    batch = EntityBatch(actor)
    pool = []
    for i in range(24):
        name = f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}"
        pool.append(("person", batch.entity("person", name)))
        if i % 3 == 0:
            plate = (
                f"{rng.randint(1, 7):02d}-{rng.randint(100, 999)}-{rng.choice('ABKLMN')}"
                f"{rng.choice('ABKLMN')}"
            )
            pool.append(("vehicle", batch.entity("vehicle", f"Truck {plate}")))
    for name in COMPANIES:
        pool.append(("organisation", batch.entity("organisation", name)))
    batch.write()
    return pool


@dataclass
class _Demo:
    """What every demo case draws on: one seeded generator (the steps draw from it in a fixed
    order, so the same cases come back), the acting system user, units, users and parties."""

    rng: random.Random
    actor: Actor
    units: dict
    users: dict
    now: datetime
    pool: list = field(default_factory=list)

    def of_type(self, entity_type: str) -> list:
        return [e for t, e in self.pool if t == entity_type]


def _seizure_items(demo: _Demo, area: str) -> list[dict]:
    rng, items = demo.rng, []
    for desc, hs, unit, (lo, hi), price in rng.sample(
        GOODS[area], k=min(len(GOODS[area]), rng.choice([1, 1, 1, 2]))
    ):
        qty = Decimal(str(round(rng.uniform(lo, hi), 1 if unit in ("kg", "l") else 0)))
        items.append(
            {
                "commodity_area": area,
                "hs_code": hs,
                "description": desc,
                "quantity": qty,
                "quantity_unit": unit,
                "value": (qty * Decimal(str(price))).quantize(Decimal("0.01")),
            }
        )
    return items


def _seizure(demo: _Demo, common: dict, place_type: str, place: str, route: tuple) -> Case:
    rng, (origin, transit, destination) = demo.rng, route
    area = rng.choices(list(AREA_WEIGHTS), list(AREA_WEIGHTS.values()))[0]
    items = _seizure_items(demo, area)
    mode = "air" if "Airport" in place else rng.choice(["road", "road", "road", "rail"])
    case = service.open_case(
        "seizure",
        title=f"Seizure of {items[0]['description'].lower()} at {place}",
        place_type=place_type,
        place=place,
        place_ref=_place_ref(place),
        items=items,
        transport_mode=mode,
        direction=rng.choice(["import", "import", "export", "transit"]),
        conveyance=(
            f"Truck {rng.randint(10, 99)}-{rng.randint(100, 999)}-KS" if mode == "road" else None
        ),
        route_origin=origin,
        route_transit=transit or None,
        route_destination=destination,
        detection_method=rng.choice(
            ["risk_profile", "intelligence", "random", "scanner", "dog", "routine"]
        ),
        concealment_method=rng.choice(CONCEALMENTS),
        handling_code="C" if area == "drugs" and rng.random() < 0.5 else "P",
        with_tasks=common["event_dt"] > demo.now - timedelta(days=60),
        **common,
    )
    if demo.pool and rng.random() < 0.45:
        parties._attach_party(case, rng.choice(demo.of_type("person")), "suspect", demo.actor)
        vehicles = demo.of_type("vehicle")
        if vehicles and rng.random() < 0.5:
            parties._attach_party(case, rng.choice(vehicles), "vehicle", demo.actor)
    return case


def _offence(demo: _Demo, common: dict, unit_code: str) -> Case:
    _place_type, place = demo.rng.choice(PLACES[unit_code])
    event = common["event_dt"]
    case = service.open_case(
        "offence",
        title=f"Undervaluation of goods at {place}",
        place=place,
        legal_provision="Customs Code Art. 273 (false declaration)",
        with_tasks=event > demo.now - timedelta(days=60),
        **common,
    )
    if event < demo.now - timedelta(days=30):
        evaded = Decimal(demo.rng.choice([800, 1500, 3200, 4800, 6500, 12000, 27000]))
        offences.decide_offence(
            case.id,
            actor=demo.actor,
            evaded_duties=evaded,
            legal_provision=case.legal_provision,
            decision_text="Decided on the documents and the hearing.",
            penalty=(evaded * 2 if evaded <= offences.evaded_duty_threshold() else None),
        )
    return case


def _audit(demo: _Demo, common: dict, unit_code: str) -> Case:
    rng, event = demo.rng, common["event_dt"]
    auditor = demo.users.get("auditor")
    common.update(
        unit_id=demo.units.get("PCA-1", demo.units[unit_code]).id,
        assignee_id=auditor.id if auditor else None,
    )
    companies = demo.of_type("organisation")
    company = rng.choice(companies) if companies else None
    case = service.open_case(
        "audit",
        title=f"Post-clearance audit: {company.name if company else 'trader'}",
        audit_type=rng.choice(["desk", "desk", "field"]),
        risk_areas=rng.sample(["valuation", "classification", "origin", "preference"], k=2),
        period_start=(event - timedelta(days=365)).date(),
        period_end=event.date(),
        with_tasks=True,
        **common,
    )
    if company is not None:
        case.trader_entity_id, case.trader_name = company.id, company.name
        parties._attach_party(case, company, "trader", demo.actor)
    if event < demo.now - timedelta(days=90):
        debt = Decimal(rng.choice([0, 0, 4200, 18500, 73000]))
        case.assessed_debt = debt
        case.findings = (
            "Undervaluation of imports from related parties."
            if debt
            else "Declarations consistent with the records."
        )
    return case


def _investigation(common: dict, place: str) -> Case:
    return service.open_case(
        "investigation",
        title=f"Smuggling network via {place}",
        place=place,
        handling_code="C",
        handling_conditions="Investigators of the owning unit only",
        **common,
    )


def _age(demo: _Demo, case: Case, event: datetime) -> None:
    """Old cases are closed with the resolution their kind would have; younger open ones
    moved on to investigation (open investigations stay open)."""
    if event < demo.now - timedelta(days=120) and case.kind != "investigation":
        resolution = {
            "seizure": "confiscated",
            "offence": (case.decision_type or "no_offence"),
            "audit": ("debt_assessed" if case.assessed_debt else "no_findings"),
        }[case.kind]
        case.status, case.resolution, case.closed_dt = (
            "closed",
            resolution,
            event + timedelta(days=demo.rng.randint(20, 100)),
        )
    elif event < demo.now - timedelta(days=20) and case.status == "open":
        case.status = "investigation"


def _demo_case(demo: _Demo, n: int) -> None:
    """The n-th demo case: 14 in 20 seizures, 3 offences, 2 audits, 1 investigation."""
    rng, roll = demo.rng, n % 20
    unit_code = "BCP-N" if n % 2 == 0 else "PORT-S"
    place_type, place = rng.choice(PLACES[unit_code])
    event = demo.now - timedelta(days=rng.randint(0, 540), hours=rng.randint(0, 23))
    assignee = demo.users.get("officer" if unit_code == "BCP-N" else "officer2")
    route = rng.choice(ROUTES)
    common = {
        "actor": demo.actor,
        "unit_id": demo.units[unit_code].id,
        "opened_dt": event,
        "external_ref": f"{DEMO_PREFIX}{n}",
        "event_dt": event,
        "assignee_id": assignee.id if assignee else None,
        "priority": rng.choice([1, 2, 2, 2, 3, 3, 4]),
    }
    if roll < 14:
        case = _seizure(demo, common, place_type, place, route)
    elif roll < 17:
        case = _offence(demo, common, unit_code)
    elif roll < 19:
        case = _audit(demo, common, unit_code)
    else:
        case = _investigation(common, place)
    _age(demo, case, event)


def load_case_demo(options) -> None:
    existing = db.session.scalar(
        select(func.count()).where(Case.external_ref.like(DEMO_PREFIX + "%"))
    )
    if existing:
        return  # idempotent: the demo cases are there already
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    if "BCP-N" not in units:
        return
    demo = _Demo(
        rng=random.Random(20260101),  # noqa: S311 - reproducible demo data, not security
        actor=Actor.system("demo"),
        units=units,
        users={u.username: u for u in db.session.scalars(select(User))},
        now=datetime.now(UTC).replace(second=0, microsecond=0),
    )
    demo.pool = _entities(demo.actor, demo.rng)
    for n in range(60 if options.get("small") else 320):
        _demo_case(demo, n)
    db.session.flush()
