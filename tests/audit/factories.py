"""Audit test data: KCS-format history imported through the risk importer."""

import csv
import io
import itertools
import random
from datetime import date, timedelta

from app.risk.importer import import_declarations
from app.security.access import Actor

KCS_HEADER = [
    "Declaration ID",
    "Date",
    "Office ID",
    "Process Type",
    "Import Type",
    "Import Use",
    "Payment Type",
    "Mode of Transport",
    "Declarant ID",
    "Importer ID",
    "Seller ID",
    "Courier ID",
    "HS6 Code",
    "Country of Departure",
    "Country of Origin",
    "Tax Rate",
    "Tax Type",
    "Country of Origin Indicator",
    "Net Mass",
    "Item Price",
    "Fraud",
    "Critical Fraud",
]
_numbers = itertools.count(10_000_000)
#: small parameters so a test trains in well under a second
FAST_PARAMS = {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 5, "folds": 3}


def kcs_row(
    *,
    day: date,
    importer="IMP-A",
    declarant="DCL-1",
    hs="851762",
    origin="CN",
    fraud=0,
    value=1_000_000.0,
    mass=100.0,
    tax=8.0,
    number=None,
    **extra,
) -> dict:
    row = {
        "Declaration ID": str(number or next(_numbers)),
        "Date": day.isoformat(),
        "Office ID": extra.get("office", "30"),
        "Process Type": "B",
        "Import Type": "11",
        "Import Use": "21",
        "Payment Type": "11",
        "Mode of Transport": "10",
        "Declarant ID": declarant,
        "Importer ID": importer,
        "Seller ID": extra.get("seller", "SEL-1"),
        "Courier ID": extra.get("courier", ""),
        "HS6 Code": hs,
        "Country of Departure": extra.get("departure", origin),
        "Country of Origin": origin,
        "Tax Rate": str(tax),
        "Tax Type": "A",
        "Country of Origin Indicator": "Y",
        "Net Mass": str(mass),
        "Item Price": str(value),
        "Fraud": str(int(fraud)),
        "Critical Fraud": str(int(fraud)),
    }
    return row


def csv_text(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KCS_HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def import_rows(rows: list[dict], actor=None):
    return import_declarations(io.StringIO(csv_text(rows)), actor=actor or Actor.system("test"))


def history_start(days=300) -> date:
    """Where a history of ``days`` starts so that it ends a month before today (the clock):
    ratings evaluate at today, over their window (issue 17 item 2)."""
    from app.core.time import now_utc

    return now_utc().date() - timedelta(days=days + 30)


def synthetic_history(n=600, *, start=None, days=300, seed=1) -> list[dict]:
    """History with learnable risk: two bad importers, a risky HS6/origin pair; it ends a
    month before today unless ``start`` is given."""
    start = start or history_start(days)
    rng = random.Random(seed)
    importers = [f"IMP-{i:03d}" for i in range(40)]
    rows = []
    for _ in range(n):
        importer = rng.choice(importers)
        hs = rng.choice(["851762", "610910", "940360", "220421", "300490"])
        origin = rng.choice(["CN", "DE", "VN", "TR"])
        p = 0.08
        if importer in ("IMP-000", "IMP-001"):
            p += 0.6
        if hs == "610910" and origin == "VN":
            p += 0.4
        rows.append(
            kcs_row(
                day=start + timedelta(days=rng.randrange(days)),
                importer=importer,
                declarant=rng.choice(["DCL-1", "DCL-2", "DCL-3"]),
                hs=hs,
                origin=origin,
                fraud=rng.random() < p,
                value=round(rng.uniform(1e5, 5e6), 1),
                mass=round(rng.uniform(10, 1000), 1),
            )
        )
    return rows
