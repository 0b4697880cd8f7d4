"""Reference lists of the case domain: kinds, statuses, WCO CEN code lists, templates.

The commodity areas, detection and concealment methods follow the WCO Customs Enforcement
Network (CEN) seizure report; the labels are what a border officer sees.
"""

KINDS = {
    "seizure": "Seizure",
    "offence": "Offence",
    "audit": "Post-clearance audit",
    "investigation": "Investigation",
}

#: status -> label, in workflow order
STATUSES = {
    "open": "Open",
    "investigation": "Under investigation",
    "decision": "Decision",
    "closed": "Closed",
}

#: status -> statuses it may move to (closing always needs a resolution)
TRANSITIONS = {
    "open": ("investigation", "decision", "closed"),
    "investigation": ("decision", "closed"),
    "decision": ("investigation", "closed"),
    "closed": ("open",),
}

#: resolutions a closed case can carry, per kind
RESOLUTIONS = {
    "seizure": {
        "confiscated": "Goods confiscated",
        "referred_offence": "Referred as offence case",
        "criminal_report": "Criminal report filed",
        "released": "Goods released (no offence)",
        "duplicate": "Duplicate (merged)",
    },
    "offence": {
        "offence_decision": "Offence decision (penalty)",
        "criminal_report": "Criminal report filed",
        "no_offence": "No offence established",
        "duplicate": "Duplicate (merged)",
    },
    "audit": {
        "debt_assessed": "Debt assessed",
        "no_findings": "No findings",
        "referred": "Referred to enforcement",
        "duplicate": "Duplicate (merged)",
    },
    "investigation": {
        "prosecuted": "Referred to prosecution",
        "no_further_action": "No further action",
        "duplicate": "Duplicate (merged)",
    },
}

PRIORITIES = {1: "Low", 2: "Medium", 3: "High", 4: "Critical"}

#: WCO CEN commodity areas
COMMODITY_AREAS = {
    "drugs": "Drugs",
    "tobacco": "Tobacco",
    "alcohol": "Alcohol",
    "weapons": "Weapons and ammunition",
    "ipr": "IPR (counterfeit goods)",
    "cites": "CITES (protected species)",
    "currency": "Currency",
    "precursors": "Drug precursors",
    "cultural": "Cultural goods",
    "other": "Other",
}

DETECTION_METHODS = {
    "risk_profile": "Risk profile",
    "intelligence": "Intelligence",
    "random": "Random selection",
    "scanner": "Scanner / X-ray",
    "dog": "Detector dog",
    "routine": "Routine control",
}

CONCEALMENT_METHODS = {
    "none": "Not concealed",
    "false_compartment": "False compartment / hidden cavity",
    "body": "On the body",
    "body_internal": "Swallowed / internal",
    "luggage": "In luggage",
    "cargo_mixed": "Mixed with legitimate cargo",
    "fuel_tank": "Fuel tank",
    "vehicle_structure": "Vehicle structure (doors, panels, tyres)",
    "postal": "Postal / express parcel",
    "misdeclared": "Misdeclared / false description",
    "other": "Other",
}

TRANSPORT_MODES = {
    "road": "Road",
    "rail": "Rail",
    "sea": "Sea",
    "air": "Air",
    "postal": "Postal / courier",
    "pedestrian": "Pedestrian",
    "other": "Other",
}

DIRECTIONS = {"import": "Import / entry", "export": "Export / exit", "transit": "Transit"}

PLACE_TYPES = {"bcp": "Border crossing point", "office": "Customs office", "inland": "Inland"}

QUANTITY_UNITS = {
    "kg": "kg",
    "g": "g",
    "l": "litres",
    "pcs": "pieces",
    "sticks": "cigarettes (sticks)",
    "packs": "packs",
    "eur": "EUR (currency)",
    "m3": "m³",
    "specimens": "specimens",
}

AUDIT_TYPES = {"desk": "Desk audit", "field": "Field audit"}

RISK_AREAS = {
    "valuation": "Valuation",
    "classification": "Classification",
    "origin": "Origin",
    "preference": "Preferential treatment",
    "quota_licence": "Quota / licence",
    "excise": "Excise",
    "prohibitions": "Prohibitions and restrictions",
    "procedures": "Customs procedures (warehousing, inward processing)",
}

#: roles an entity can play in a case
PARTY_ROLES = {
    "suspect": "Suspect",
    "owner": "Owner",
    "driver": "Driver",
    "passenger": "Passenger",
    "consignor": "Consignor",
    "consignee": "Consignee",
    "declarant": "Declarant",
    "carrier": "Carrier",
    "trader": "Audited trader",
    "vehicle": "Vehicle / conveyance",
    "container": "Container",
    "witness": "Witness",
    "other": "Other",
}

LINK_TYPES = {"declaration": "Declaration", "report": "Intelligence report", "case": "Case"}


#: case templates: key -> kind, label, default title, tasks (title, due in days), checklist
TEMPLATES = {
    "seizure": {
        "kind": "seizure",
        "label": "Seizure at the border",
        "tasks": [
            ("Secure and photograph the goods", 0),
            ("Sample and test the goods", 3),
            ("Hand goods over to the warehouse", 2),
            ("Decide on offence or release", 14),
        ],
        "checklist": [],
    },
    "seizure_drugs": {
        "kind": "seizure",
        "label": "Drug seizure (controlled delivery check)",
        "tasks": [
            ("Notify the police drug unit", 0),
            ("Field test and weigh the substance", 0),
            ("Send samples to the laboratory", 2),
            ("Check for controlled delivery", 1),
            ("Report to WCO CEN", 30),
        ],
        "checklist": [],
    },
    "offence": {
        "kind": "offence",
        "label": "Customs offence",
        "tasks": [
            ("Hear the person concerned", 7),
            ("Calculate evaded duties", 10),
            ("Take the offence decision", 30),
        ],
        "checklist": [],
    },
    "audit": {
        "kind": "audit",
        "label": "Post-clearance audit",
        "tasks": [
            ("Desk review of declarations and records", 14),
            ("Audit plan", 21),
            ("Findings and debt assessment", 60),
        ],
        "checklist": [
            "Declarations of the period extracted",
            "Trader notified",
            "Valuation checked",
            "Classification checked",
            "Origin checked",
            "Closing meeting held",
        ],
    },
    "investigation": {
        "kind": "investigation",
        "label": "Investigation",
        "tasks": [("Investigation plan", 7), ("Collect evidence", 30)],
        "checklist": [],
    },
}

DEFAULT_TEMPLATE = {
    "seizure": "seizure",
    "offence": "offence",
    "audit": "audit",
    "investigation": "investigation",
}


def templates_for(kind: str) -> dict:
    return {k: t for k, t in TEMPLATES.items() if t["kind"] == kind}
