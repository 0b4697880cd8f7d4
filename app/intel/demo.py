"""Demo entities and links: trading companies sharing directors, addresses and phones,
vehicles and containers recurring across shipments, and a few near-duplicates to resolve.

Deterministic (seeded) and idempotent: a second run finds its marker entity and stops.
"""

import random
from datetime import date, timedelta

from sqlalchemy import select

from app.core.time import today_utc
from app.extensions import db
from app.intel import reports, service
from app.intel.bulk import EntityBatch
from app.security.access import Actor
from app.security.models import Unit

MARKER = ("company_reg", "DEMO-REG-00001")
FIRST = [
    "Arben",
    "Besnik",
    "Driton",
    "Fatmir",
    "Ilir",
    "Luan",
    "Mentor",
    "Valon",
    "Agim",
    "Blerim",
    "Ivan",
    "Petar",
    "Milan",
    "Dragan",
    "Goran",
    "Nikola",
    "Stefan",
    "Marko",
    "Ahmet",
    "Mehmet",
    "Hasan",
    "Elena",
    "Ana",
    "Maria",
    "Vesna",
    "Jelena",
    "Teuta",
    "Drita",
    "Lule",
    "Ardit",
    "Kujtim",
    "Sokol",
    "Genc",
    "Bujar",
    "Florim",
    "Hysen",
]
LAST = [
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Morina",
    "Shala",
    "Hoxha",
    "Kastrati",
    "Bytyqi",
    "Petrovic",
    "Jovanovic",
    "Nikolic",
    "Markovic",
    "Stojanovic",
    "Yilmaz",
    "Demir",
    "Kaya",
    "Popov",
    "Ivanov",
    "Georgiev",
    "Dimitrov",
    "Rexhepi",
    "Hasani",
    "Osmani",
    "Zeqiri",
    "Mustafa",
    "Ahmeti",
    "Selimi",
    "Bajrami",
    "Rama",
    "Leka",
]
CO_A = [
    "Balkan",
    "Dardania",
    "Adriatic",
    "Euro",
    "Kosova",
    "Illyria",
    "Prishtina",
    "Danube",
    "Vardar",
    "Drini",
    "Sharri",
    "Rugova",
    "Ibar",
    "Morava",
    "Struma",
    "Pelister",
    "Alpha",
    "Orient",
    "Nova",
    "Meridian",
    "Trans",
    "Iber",
    "Lumi",
    "Korab",
    "Ulpiana",
]
CO_B = [
    "Trading",
    "Logistics",
    "Import-Export",
    "Freight",
    "Distribution",
    "Commerce",
    "Transport",
    "Holding",
    "Supply",
    "Cargo",
    "Foods",
    "Tobacco",
    "Textiles",
    "Metals",
    "Auto Parts",
    "Pharma",
    "Electronics",
    "Beverages",
]
CO_FORM = ["LLC", "Sh.p.k.", "d.o.o.", "Ltd", "GmbH", "SRL", "A.S."]
CITIES = [
    "Pristina",
    "Prizren",
    "Peja",
    "Gjakova",
    "Mitrovica",
    "Ferizaj",
    "Gjilan",
    "Skopje",
    "Tirana",
    "Belgrade",
    "Istanbul",
    "Sofia",
    "Thessaloniki",
    "Durres",
]
STREETS = [
    "Rr. Nena Tereze",
    "Rr. Agim Ramadani",
    "Bul. Bill Clinton",
    "Rr. UCK",
    "Rr. Skenderbeu",
    "Rr. Luan Haradinaj",
    "Industrial Zone",
    "Rr. Fehmi Agani",
]
OWNERS = ["MSC", "MAE", "CMA", "HLX", "ONE", "EMC", "ZIM", "TGH", "CAI", "SEG"]
PLATE_REGIONS = ["01", "02", "03", "04", "05", "06", "07"]


def _container_number(rng):
    from stdnum.iso6346 import calc_check_digit

    owner = rng.choice(OWNERS) + "U"
    serial = f"{rng.randrange(10**6):06d}"
    return owner + serial + calc_check_digit(owner + serial)


def _imo(rng):
    digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(5)]
    check = sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return "".join(map(str, digits)) + str(check)


def _iban(rng):
    from stdnum.iban import calc_check_digits

    bban = f"{rng.randrange(10**16):016d}"
    return "XK" + calc_check_digits("XK00" + bban) + bban


def _day(rng, start=date(2019, 1, 1), span=2200):
    return start + timedelta(days=rng.randrange(span))


def load_intel_demo(options) -> None:
    """A few thousand linked entities (a few hundred with ``--small``)."""
    if service.find_by_identifier(*MARKER) is not None:
        return
    unit = db.session.scalar(select(Unit).where(Unit.code == "HQ-INT")) or db.session.scalar(
        select(Unit).order_by(Unit.id)
    )
    actor = Actor.system("demo")
    actor.unit_id = unit.id if unit else None
    generate(actor, scale=0.1 if options.get("small") else 1.0, seed=20260401)


def generate(
    actor: Actor,
    *,
    scale: float = 1.0,
    seed: int = 1,
    n_companies=None,
    propose=False,
    with_reports=True,
) -> dict:
    """Build the demo network (also used by bench/bench_intel.py at larger scales)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    n = n_companies or max(20, int(600 * scale))

    # One batch: validated like service.create_entity / add_link, written in a few
    # multi-row statements (with the same index rows, trail rows and signals).
    batch = EntityBatch(actor)

    def create(etype, name, **kw):
        return batch.entity(etype, name, **kw)

    def link(a, b, kind, **kw):
        batch.link(
            a,
            b,
            kind,
            grade=rng.choice(["1A", "1B", "2B", "2C", "3C"]),
            start_date=_day(rng),
            **kw,
        )

    persons, companies, addresses, phones = [], [], [], []
    for i in range(max(10, int(n * 0.5))):
        addr = create(
            "address", f"{rng.choice(STREETS)} {rng.randrange(1, 200)}, {rng.choice(CITIES)} #{i}"
        )
        addresses.append(addr)
    for _ in range(max(10, int(n * 0.6))):
        num = f"+383{rng.choice(['44', '45', '49'])}{rng.randrange(10**6):06d}"
        phones.append(create("phone", num, identifiers={"phone": num}))
    for i in range(max(20, int(n * 1.2))):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        p = create(
            "person",
            f"{first} {last}",
            identifiers={"passport": f"P{rng.randrange(10**7):07d}{i}"},
            attributes={"born": str(_day(rng, date(1955, 1, 1), 15000))},
        )
        persons.append(p)
        if rng.random() < 0.6:
            link(p, rng.choice(addresses), "lives_at")
        if rng.random() < 0.7:
            link(p, rng.choice(phones), "uses_phone")
    for i in range(n):
        name = f"{rng.choice(CO_A)} {rng.choice(CO_B)} {rng.choice(CO_FORM)}"
        idents = {"company_reg": f"DEMO-REG-{i + 1:05d}"}
        if rng.random() < 0.8:
            idents["eori"] = f"XK{rng.randrange(10**9):09d}{i:03d}"[:17]
        c = create(
            "organisation",
            name,
            identifiers=idents,
            roles=[rng.choice(["trader", "carrier", "broker", "forwarder"])],
        )
        companies.append(c)
        # Shared directors, addresses and phones: the patterns a link chart should reveal.
        for director in rng.sample(persons, k=rng.choice([1, 1, 2, 3])):
            link(director, c, "director_of")
        link(c, rng.choice(addresses[: max(5, len(addresses) // 3)]), "registered_at")
        if rng.random() < 0.5:
            link(c, rng.choice(phones), "uses_phone")
        if rng.random() < 0.3:
            acct = create("bank_account", f"Account of {name}", identifiers={"iban": _iban(rng)})
            link(c, acct, "holds_account")
    for _ in range(max(10, int(n * 0.4))):
        plate = (
            f"{rng.choice(PLATE_REGIONS)}-{rng.randrange(100, 999)}-"
            f"{rng.choice('ABCDEFGHKLMNPRST')}{rng.choice('ABCDEFGHKLMNPRST')}"
        )
        v = create(
            "vehicle",
            f"Truck {plate}",
            identifiers={"plate": plate},
            attributes={"make": rng.choice(["Scania", "Volvo", "MAN", "DAF", "Iveco"])},
        )
        link(rng.choice(persons), v, "drives")
        link(rng.choice(companies), v, "owns")
        for _ in range(rng.randrange(0, 3)):
            link(rng.choice(persons), v, "drives")
    vessels = []
    for _ in range(max(3, int(n * 0.05))):
        vessels.append(
            create(
                "vessel",
                f"MV {rng.choice(CO_A)} {rng.choice(['Star', 'Spirit', 'Queen', 'Trader'])}",
                identifiers={"imo": _imo(rng)},
            )
        )
    for _ in range(max(10, int(n * 0.5))):
        number = _container_number(rng)
        box = create("container", number, identifiers={"container": number})
        # Containers recur across shipments of different traders.
        for shipper in rng.sample(companies, k=rng.choice([1, 2, 2, 3])):
            link(shipper, box, "ships_with")
        if vessels and rng.random() < 0.5:
            link(box, rng.choice(vessels), "carried_in")
    for _ in range(max(5, int(n * 0.1))):
        a, b = rng.sample(persons, 2)
        link(a, b, rng.choice(["associate_of", "family_of", "co_accused"]))
    batch.write(propose=propose)
    # Near-duplicates for the resolution queue: transliterated / re-ordered names.
    dupes = []
    for original in rng.sample(persons, k=min(8, len(persons))):
        first, last = original.name.split(" ", 1)
        dup = service.create_entity(
            "person",
            f"{last.upper()}, {first}",
            actor=actor,
            identifiers=dict(original.identifiers),
            propose=True,
            duplicate_reason="demo: a near-duplicate for the resolution queue",
        )
        dupes.append(dup)
    if with_reports and actor.unit_id:
        target = companies[0]
        reports.create_report(
            f"Undervaluation scheme around {target.name}",
            f"A reliable source reports that {target.name} declares textiles at a fraction of "
            "their value and routes payments through a shared account.",
            "1",
            "B",
            actor=actor,
            handling_code="C",
            handling_conditions="Not to be shared outside customs without HQ-INT approval.",
            sanitised_body="Indications of systematic undervaluation of textiles by a trader.",
            entity_ids=[target.id],
        )
        reports.create_report(
            "Recurring containers on the Durres route",
            "Untested source: the same containers carry cigarettes for several consignees.",
            "2",
            "C",
            actor=actor,
            handling_code="P",
            review_date=today_utc() + timedelta(1),
        )
    return {"persons": len(persons), "companies": len(companies), "duplicates": len(dupes)}
