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


class _Network:
    """The demo network being built: one batch (validated like service.create_entity /
    add_link, written in a few multi-row statements with the same index rows, trail rows and
    signals) and the records each step hands to the next."""

    def __init__(self, actor: Actor, rng: random.Random, n: int):
        self.rng, self.n = rng, n
        self.batch = EntityBatch(actor)
        self.persons, self.companies, self.addresses, self.phones = [], [], [], []

    def create(self, etype, name, **kw):
        return self.batch.entity(etype, name, **kw)

    def link(self, a, b, kind, **kw):
        self.batch.link(
            a,
            b,
            kind,
            grade=self.rng.choice(["1A", "1B", "2B", "2C", "3C"]),
            start_date=_day(self.rng),
            **kw,
        )


def _addresses_and_phones(net: _Network) -> None:
    rng = net.rng
    for i in range(max(10, int(net.n * 0.5))):
        net.addresses.append(
            net.create(
                "address",
                f"{rng.choice(STREETS)} {rng.randrange(1, 200)}, {rng.choice(CITIES)} #{i}",
            )
        )
    for _ in range(max(10, int(net.n * 0.6))):
        num = f"+383{rng.choice(['44', '45', '49'])}{rng.randrange(10**6):06d}"
        net.phones.append(net.create("phone", num, identifiers={"phone": num}))


def _persons(net: _Network) -> None:
    rng = net.rng
    for i in range(max(20, int(net.n * 1.2))):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        p = net.create(
            "person",
            f"{first} {last}",
            identifiers={"passport": f"P{rng.randrange(10**7):07d}{i}"},
            attributes={"born": str(_day(rng, date(1955, 1, 1), 15000))},
        )
        net.persons.append(p)
        if rng.random() < 0.6:
            net.link(p, rng.choice(net.addresses), "lives_at")
        if rng.random() < 0.7:
            net.link(p, rng.choice(net.phones), "uses_phone")


def _companies(net: _Network) -> None:
    rng, addresses = net.rng, net.addresses
    for i in range(net.n):
        name = f"{rng.choice(CO_A)} {rng.choice(CO_B)} {rng.choice(CO_FORM)}"
        idents = {"company_reg": f"DEMO-REG-{i + 1:05d}"}
        if rng.random() < 0.8:
            idents["eori"] = f"XK{rng.randrange(10**9):09d}{i:03d}"[:17]
        c = net.create(
            "organisation",
            name,
            identifiers=idents,
            roles=[rng.choice(["trader", "carrier", "broker", "forwarder"])],
        )
        net.companies.append(c)
        # Shared directors, addresses and phones: the patterns a link chart should reveal.
        for director in rng.sample(net.persons, k=rng.choice([1, 1, 2, 3])):
            net.link(director, c, "director_of")
        net.link(c, rng.choice(addresses[: max(5, len(addresses) // 3)]), "registered_at")
        if rng.random() < 0.5:
            net.link(c, rng.choice(net.phones), "uses_phone")
        if rng.random() < 0.3:
            acct = net.create(
                "bank_account", f"Account of {name}", identifiers={"iban": _iban(rng)}
            )
            net.link(c, acct, "holds_account")


def _vehicles(net: _Network) -> None:
    rng = net.rng
    for _ in range(max(10, int(net.n * 0.4))):
        plate = (
            f"{rng.choice(PLATE_REGIONS)}-{rng.randrange(100, 999)}-"
            f"{rng.choice('ABCDEFGHKLMNPRST')}{rng.choice('ABCDEFGHKLMNPRST')}"
        )
        v = net.create(
            "vehicle",
            f"Truck {plate}",
            identifiers={"plate": plate},
            attributes={"make": rng.choice(["Scania", "Volvo", "MAN", "DAF", "Iveco"])},
        )
        net.link(rng.choice(net.persons), v, "drives")
        net.link(rng.choice(net.companies), v, "owns")
        for _ in range(rng.randrange(0, 3)):
            net.link(rng.choice(net.persons), v, "drives")


def _vessels_and_containers(net: _Network) -> None:
    rng = net.rng
    vessels = []
    for _ in range(max(3, int(net.n * 0.05))):
        vessels.append(
            net.create(
                "vessel",
                f"MV {rng.choice(CO_A)} {rng.choice(['Star', 'Spirit', 'Queen', 'Trader'])}",
                identifiers={"imo": _imo(rng)},
            )
        )
    for _ in range(max(10, int(net.n * 0.5))):
        number = _container_number(rng)
        box = net.create("container", number, identifiers={"container": number})
        # Containers recur across shipments of different traders.
        for shipper in rng.sample(net.companies, k=rng.choice([1, 2, 2, 3])):
            net.link(shipper, box, "ships_with")
        if vessels and rng.random() < 0.5:
            net.link(box, rng.choice(vessels), "carried_in")


def _associations(net: _Network) -> None:
    for _ in range(max(5, int(net.n * 0.1))):
        a, b = net.rng.sample(net.persons, 2)
        net.link(a, b, net.rng.choice(["associate_of", "family_of", "co_accused"]))


def _near_duplicates(actor: Actor, rng: random.Random, persons: list) -> list:
    """Near-duplicates for the resolution queue: transliterated / re-ordered names."""
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
    return dupes


def _reports(actor: Actor, target) -> None:
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


def generate(
    actor: Actor,
    *,
    scale: float = 1.0,
    seed: int = 1,
    n_companies=None,
    propose=False,
    with_reports=True,
) -> dict:
    """Build the demo network (also used by bench/bench_intel.py at larger scales). The
    steps draw from one seeded generator in a fixed order: the same seed, the same network."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    net = _Network(actor, rng, n_companies or max(20, int(600 * scale)))
    for step in (
        _addresses_and_phones,
        _persons,
        _companies,
        _vehicles,
        _vessels_and_containers,
        _associations,
    ):
        step(net)
    net.batch.write(propose=propose)
    dupes = _near_duplicates(actor, rng, net.persons)
    if with_reports and actor.unit_id:
        _reports(actor, net.companies[0])
    return {"persons": len(net.persons), "companies": len(net.companies), "duplicates": len(dupes)}
