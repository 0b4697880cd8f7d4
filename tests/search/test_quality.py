"""Search quality set: misspellings and identifier variants, each must find its record in the
top 5, on Whoosh and on PostgreSQL, through the platform's own records and search service.

Every searched text tolerates typos, not only names: commodities, places, titles and
descriptions; identifiers match on their normalised form (separators out, check digit kept).
"""

from app.intel import reports
from app.intel import service as intel
from app.risk.models import Declaration
from app.search import service as search
from tests.cases.factories import seizure
from tests.risk.factories import body, item, submit

TOP = 5


def _item(area, description, hs_code, quantity="10", unit="kg", value="1000"):
    return {
        "commodity_area": area,
        "hs_code": hs_code,
        "description": description,
        "quantity": quantity,
        "quantity_unit": unit,
        "value": value,
    }


def _corpus(actor):
    """Records of every searched type, with near neighbours so ranking matters."""
    r = {}
    r["heroin"] = seizure(
        actor,
        title="Heroin in a fuel tank",
        items=[_item("drugs", "Heroin, brown, in 24 packages", "293911")],
        place="BCP Jarinje",
        conveyance="Container TGHU7654320",
    )
    r["cigarettes"] = seizure(
        actor,
        title="Cigarettes under the floor",
        items=[_item("tobacco", "Cigarettes Marlboro", "240220", "20000", "sticks")],
        place="BCP Merdare",
    )
    r["shoes"] = seizure(
        actor,
        title="Sports goods in a trailer",
        items=[_item("ipr", "Counterfeit sports shoes", "640411", "400", "pcs")],
        place="Port of Durres",
    )
    r["cocaine"] = seizure(
        actor,
        title="Banana boxes",
        items=[_item("drugs", "Cocaine hidden among bananas", "293979")],
        place="Port of Durres",
    )
    r["cannabis"] = seizure(
        actor,
        title="Backpacks at the green border",
        items=[_item("drugs", "Cannabis herbal", "121190")],
        place="Vermica",
    )
    r["cash"] = seizure(
        actor,
        title="Undeclared cash",
        items=[_item("currency", "Euro banknotes", "490700", "1", "pcs", "85000")],
        place="Pristina Airport",
    )
    r["perfume"] = seizure(
        actor,
        title="Perfume parcels",
        items=[_item("ipr", "Counterfeit perfume bottles", "330300", "120", "pcs")],
        place="BCP Hani i Elezit",
    )
    r["pills"] = seizure(
        actor,
        title="Pills in a minibus",
        items=[_item("drugs", "Tramadol tablets", "300490", "5000", "pcs")],
        place="BCP Dheu i Bardhe",
    )
    r["weapons"] = seizure(
        actor,
        title="Ammunition in a car",
        items=[_item("weapons", "Pistol ammunition cartridges", "930630", "900", "pcs")],
        place="BCP Kulla",
    )
    r["fuel"] = seizure(
        actor,
        title="Fuel smuggled in a tanker",
        items=[_item("other", "Diesel fuel", "271019", "30000", "l")],
        place="Mitrovica",
    )
    # neighbours: the right spelling of one is the misspelling of none
    for title in ("Heroes of the week", "Cigar boxes", "Counter for shoes"):
        seizure(actor, title=title, items=[_item("other", title, "999999")], place="Gjilan")
    r["fatmir"] = intel.create_entity(
        "person", "Fatmir Krasniqi", actor=actor, identifiers={"passport": "P1234567"}
    )
    r["dragan"] = intel.create_entity("person", "Dragan Jovanović", actor=actor)
    r["balkan"] = intel.create_entity(
        "organisation", "Balkan Trading LLC", actor=actor, identifiers={"eori": "XK123456789"}
    )
    r["societe"] = intel.create_entity("organisation", "Société Générale Transports", actor=actor)
    r["container"] = intel.create_entity(
        "container", "MSCU1234566", actor=actor, identifiers={"container": "MSCU1234566"}
    )
    r["phone"] = intel.create_entity(
        "phone", "+38344123456", actor=actor, identifiers={"phone": "+383 44 123 456"}
    )
    r["iban"] = intel.create_entity(
        "bank_account",
        "Account at ProCredit",
        actor=actor,
        identifiers={"iban": "XK05 1212 0123 4567 8906"},
    )
    r["vehicle"] = intel.create_entity("vehicle", "Scania truck 01-234-KS", actor=actor)
    r["ivan"] = intel.create_entity("person", "Иван Петров", actor=actor)
    r["report"] = reports.create_report(
        "Smuggling network at Jarinje",
        "Cigarette smuggling by a transport company through the northern crossings.",
        "2",
        "B",
        actor=actor,
    )
    r["report2"] = reports.create_report(
        "Counterfeit pharmaceuticals",
        "Falsified medicines shipped as vitamins from Istanbul.",
        "2",
        "B",
        actor=actor,
    )
    decl = submit(
        body(
            "D7700123",
            items=[item(hs_code="9004100000", description="Sunglasses with fake logos")],
        )
    )
    r["declaration"] = decl if isinstance(decl, Declaration) else decl.declaration
    return r


def _quality_set(r):
    """(query, record it must find in the top 5)."""
    report_ref = r["report"].reference  # e.g. R-2026-0001
    return [
        # commodities, titles, descriptions
        ("heroine", "heroin"),
        ("heorin", "heroin"),
        ("herion", "heroin"),
        ("cigarete", "cigarettes"),
        ("cigarrettes", "cigarettes"),
        ("sigarettes marlboro", "cigarettes"),
        ("counterfiet shoes", "shoes"),
        ("conterfeit shoes", "shoes"),
        ("sprots shoes", "shoes"),
        ("cocain", "cocaine"),
        ("cocaine bananna", "cocaine"),
        ("canabis", "cannabis"),
        ("cannabis herbel", "cannabis"),
        ("bankntoes", "cash"),
        ("undeclred cash", "cash"),
        ("perfum", "perfume"),
        ("counterfeit perfune", "perfume"),
        ("tramadl", "pills"),
        ("tramadol tablest", "pills"),
        ("amunition", "weapons"),
        ("pistol amunition", "weapons"),
        ("diesle", "fuel"),
        ("smugled fuel", "fuel"),
        ("sunglases", "declaration"),
        ("fake logso", "declaration"),
        ("counterfeit pharmacueticals", "report2"),
        ("falsifed medicines", "report2"),
        ("smugling network", "report"),
        # places
        ("Jarinej", "heroin"),
        ("Jarinje heroin", "heroin"),
        ("Merdrae", "cigarettes"),
        ("Vermcia", "cannabis"),
        ("Pristina airprot", "cash"),
        ("Durres cocain", "cocaine"),
        # names
        ("Fatmir Krasnici", "fatmir"),
        ("Fatimr Krasniqi", "fatmir"),
        ("Dragan Jovanovich", "dragan"),
        ("Balkan Tradng", "balkan"),
        ("Blakan trading", "balkan"),
        ("societe generale", "societe"),
        ("ivan petrov", "ivan"),
        # identifiers typed every way
        ("MSCU 123456-6", "container"),
        ("mscu-123456-6", "container"),
        ("MSCU.123456.6", "container"),
        ("mscu 1234566", "container"),
        ("MSCU1234566", "container"),
        ("TGHU 765432 0", "heroin"),
        ("XK 123 456 789", "balkan"),
        ("XK123456789", "balkan"),
        ("P 1234567", "fatmir"),
        ("+383 44 123 456", "phone"),
        ("383-44-123-456", "phone"),
        ("XK05 1212 0123 4567 8906", "iban"),
        ("01 234 KS", "vehicle"),
        ("D 7700123", "declaration"),
        (report_ref, "report"),
        (report_ref.replace("-", " "), "report"),
        (report_ref.replace("-", ""), "report"),
        (r["heroin"].reference, "heroin"),
        (r["heroin"].reference.replace("-", " "), "heroin"),
    ]


def test_quality_set_finds_every_record_in_the_top_five(make, db, backend):
    user = make.user(
        roles=["intelligence_officer", "enforcement_officer", "risk_analyst", "supervisor"]
    )
    actor = make.actor(user)
    records = _corpus(actor)
    db.session.commit()
    search.apply_index_queue(backend)
    cases = _quality_set(records)
    assert len(cases) >= 40
    missed = []
    for query, wanted in cases:
        record = records[wanted]
        record_type = {
            "Case": "case",
            "Entity": "entity",
            "IntelReport": "report",
            "Declaration": "declaration",
        }[type(record).__name__]
        result = search.search(actor, query, backend=backend, per_page=TOP, log=False)
        top = [(h.record_type, h.record_id) for h in result.hits]
        if (record_type, record.id) not in top:
            missed.append(f"{query!r} -> {wanted}: top {[h.title for h in result.hits]}")
    assert not missed, f"{len(missed)} of {len(cases)} missed:\n" + "\n".join(missed)


def test_misspellings_keep_need_to_know(make, db, backend):
    """Typo tolerance goes through the same access filter: another unit's restricted seizure
    is found by its owner's misspelling and never by the other unit's."""
    owner = make.actor(make.user(roles=["enforcement_officer"], unit=make.unit()))
    other = make.actor(make.user(roles=["enforcement_officer"], unit=make.unit()))
    seizure(
        owner,
        title="Powder in a car",
        items=[_item("drugs", "Heroin", "293911")],
        handling_code="C",
    )
    db.session.commit()
    search.apply_index_queue(backend)
    assert search.search(owner, "heroine", backend=backend, log=False).total == 1
    assert search.search(other, "heroine", backend=backend, log=False).total == 0
    assert search.search(other, "heroin", backend=backend, log=False).total == 0
