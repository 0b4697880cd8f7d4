"""The demo risk profiles: realistic targeting rules over the generated traffic."""


def _c(field, op, value=None):
    return {"field": field, "op": op, "value": value}


def _all(*conditions):
    return {"join": "and", "conditions": list(conditions)}


def _any(*conditions):
    return {"join": "or", "conditions": list(conditions)}


def demo_profiles(risky_importers):
    """(name, risk area, channel, tree, instructions, sensitive, status)."""
    P = []  # noqa: N806
    add = P.append
    add(
        (
            "Cigarettes from free zones",
            "Smuggling of cigarettes declared from free zones",
            "red",
            _all(_c("hs_code", "prefix", ["2402"]), _c("departure", "in", ["AE", "TR"])),
            "Full physical examination; count packs; check tax stamps.",
            True,
            "active",
        )
    )
    add(
        (
            "Cigarettes, any origin, high tax",
            "Excise fraud on tobacco",
            "orange",
            _all(_c("hs_code", "prefix", ["2402", "2403"])),
            "Scan the container.",
            False,
            "active",
        )
    )
    add(
        (
            "Precursor chemicals",
            "Drug precursors in heterocyclic compounds",
            "red",
            _all(_c("hs_code", "prefix", ["2933", "2939"])),
            "Sample and send to the laboratory; contact the drugs unit.",
            True,
            "active",
        )
    )
    add(
        (
            "Undervalued T-shirts",
            "Undervaluation of cotton garments",
            "yellow",
            _all(_c("hs_code", "prefix", ["6109"]), _c("unit_value", "lt", 6)),
            "Check invoice against the valuation database.",
            False,
            "active",
        )
    )
    add(
        (
            "Undervalued trousers",
            "Undervaluation of trousers",
            "yellow",
            _all(_c("hs_code", "prefix", ["6203"]), _c("unit_value_deviation", "lt", -45)),
            "Ask for proof of payment.",
            False,
            "active",
        )
    )
    add(
        (
            "Smartphones far below peer value",
            "Undervaluation of smartphones",
            "red",
            _all(_c("hs_code", "prefix", ["851713"]), _c("unit_value_deviation", "lt", -50)),
            "Verify models and quantity; compare with retail prices.",
            False,
            "active",
        )
    )
    add(
        (
            "Steel origin circumvention",
            "Anti-dumping circumvention through third countries",
            "yellow",
            _all(
                _c("hs_code", "prefix", ["7208", "7209", "7210"]),
                _c("origin", "in", ["VN", "MY", "TH"]),
            ),
            "Request certificate of origin and mill certificates.",
            False,
            "active",
        )
    )
    add(
        (
            "Apples re-routed",
            "False origin of apples under an embargo",
            "yellow",
            _all(_c("hs_code", "prefix", ["0808"]), _c("origin", "in", ["TR", "VN", "MY", "TH"])),
            "Check phytosanitary certificate and origin.",
            False,
            "active",
        )
    )
    add(
        (
            "Counterfeit footwear",
            "IPR: counterfeit branded footwear",
            "red",
            _all(
                _c("hs_code", "prefix", ["6403", "6404"]),
                _c("origin", "eq", "CN"),
                _c("unit_value", "lt", 20),
            ),
            "Examine for trademarks; contact right holders.",
            False,
            "active",
        )
    )
    add(
        (
            "Counterfeit perfumes",
            "IPR: counterfeit perfumes",
            "orange",
            _all(_c("hs_code", "prefix", ["3303"]), _c("origin", "in", ["CN", "AE"])),
            "Scan; sample for right-holder verification.",
            False,
            "active",
        )
    )
    add(
        (
            "Counterfeit watches by post",
            "IPR: watches in small consignments",
            "yellow",
            _all(_c("hs_code", "prefix", ["9102"]), _c("transport_mode", "eq", "5")),
            "Open parcel; check brand.",
            False,
            "active",
        )
    )
    add(
        (
            "Falsified medicines",
            "Falsified medicines from unlicensed importers",
            "red",
            _all(
                _c("hs_code", "prefix", ["3004"]),
                _c("origin", "in", ["CN", "IN"]),
                _c("value", "lt", 5000),
            ),
            "Check licence; sample; inform the medicines agency.",
            True,
            "active",
        )
    )
    add(
        (
            "Toy safety",
            "Unsafe toys (CE marking)",
            "yellow",
            _all(_c("hs_code", "prefix", ["9503"]), _c("origin", "eq", "CN")),
            "Check CE marking and documentation.",
            False,
            "active",
        )
    )
    add(
        (
            "Laptops declared as parts",
            "Misclassification of laptops",
            "yellow",
            _all(_c("hs_code", "prefix", ["8471"]), _c("tax_rate", "eq", 0), _c("mass", "gt", 500)),
            "Compare description with goods.",
            False,
            "active",
        )
    )
    add(
        (
            "TV sets misclassified",
            "Misclassification of televisions as monitors",
            "yellow",
            _all(_c("hs_code", "prefix", ["8528"]), _c("unit_value", "lt", 25)),
            "Verify tuner; reclassify if needed.",
            False,
            "active",
        )
    )
    add(
        (
            "Used cars undervalued",
            "Undervaluation of passenger cars",
            "yellow",
            _all(_c("hs_code", "prefix", ["8703"]), _c("unit_value_deviation", "lt", -40)),
            "Check VIN and market value.",
            False,
            "active",
        )
    )
    add(
        (
            "Diesel declared as heating oil",
            "Misclassification of gas oil",
            "orange",
            _all(_c("hs_code", "prefix", ["2710"]), _c("transport_mode", "eq", "3")),
            "Sample and test markers.",
            False,
            "active",
        )
    )
    add(
        (
            "Whisky undervalued",
            "Undervaluation of spirits",
            "yellow",
            _all(_c("hs_code", "prefix", ["2208"]), _c("unit_value", "lt", 10)),
            "Check invoice and excise documents.",
            False,
            "active",
        )
    )
    add(
        (
            "Watched importers",
            "Importers named by intelligence",
            "red",
            _all(_c("importer", "in_list", "Watched importers")),
            "Full examination; inform the intelligence unit.",
            True,
            "active",
        )
    )
    add(
        (
            "First import of a chapter, high value",
            "New line of business for an importer",
            "yellow",
            _all(_c("first_importer_chapter", "is_true"), _c("value", "gt", 50000)),
            "Documentary check: contracts and payment.",
            False,
            "active",
        )
    )
    add(
        (
            "High-risk trader rating",
            "Traders with a high behavioural risk rating",
            "yellow",
            _all(_c("trader_rating", "gte", 80)),
            "Documentary check.",
            False,
            "active",
        )
    )
    add(
        (
            "High ML score",
            "Items the model scores as very likely non-compliant",
            "orange",
            _all(_c("ml_score", "gte", 0.9)),
            "Scan and targeted examination.",
            False,
            "active",
        )
    )
    add(
        (
            "Transshipment hubs, textiles",
            "Textiles routed through hubs",
            "blue",
            _all(
                _c("hs_code", "prefix", ["61", "62"]),
                _c("departure", "in_list", "Transshipment hubs"),
            ),
            "Post-clearance verification of origin.",
            False,
            "active",
        )
    )
    add(
        (
            "Tyres undervalued",
            "Undervaluation of tyres",
            "blue",
            _all(_c("hs_code", "prefix", ["4011"]), _c("unit_value", "lt", 2.8)),
            "Post-clearance valuation check.",
            False,
            "active",
        )
    )
    add(
        (
            "Furniture undervalued",
            "Undervaluation of furniture",
            "blue",
            _all(_c("hs_code", "prefix", ["9401"]), _c("unit_value_deviation", "lt", -50)),
            "Post-clearance audit of valuation.",
            False,
            "active",
        )
    )
    add(
        (
            "Food preparations misclassified",
            "Sugar content misdeclared",
            "yellow",
            _all(_c("hs_code", "prefix", ["2106"]), _c("origin", "in", ["TR", "CN"])),
            "Sample for laboratory analysis.",
            False,
            "active",
        )
    )
    add(
        (
            "Car parts from new suppliers",
            "Misclassification of car parts",
            "blue",
            _all(_c("hs_code", "prefix", ["8708"]), _c("first_importer_chapter", "is_true")),
            "Post-clearance classification review.",
            False,
            "active",
        )
    )
    add(
        (
            "Inward processing textiles",
            "Abuse of inward processing",
            "yellow",
            _all(_c("procedure", "eq", "5100"), _c("hs_code", "prefix", ["61", "62"])),
            "Check authorisation and balances.",
            False,
            "active",
        )
    )
    add(
        (
            "Courier phones",
            "Smartphones in express consignments",
            "orange",
            _all(_c("hs_code", "prefix", ["851713"]), _c("transport_mode", "in", ["4", "5"])),
            "Scan consignment.",
            False,
            "active",
        )
    )
    add(
        (
            "Sensitive: weapons parts",
            "Firearms parts hidden in machinery",
            "red",
            _all(_c("hs_code", "prefix", ["9305", "9306"])),
            "Full examination with the police.",
            True,
            "active",
        )
    )
    add(
        (
            "Port: heavy steel, no indicator",
            "Origin of heavy steel shipments",
            "yellow",
            _all(
                _c("office", "eq", "PORT-S"),
                _c("hs_code", "prefix", ["72"]),
                _c("mass", "gt", 20000),
            ),
            "Check mill certificates.",
            False,
            "active",
        )
    )
    add(
        (
            "Air: perfumes and watches",
            "Luxury goods by air",
            "yellow",
            _any(
                _all(_c("office", "eq", "AIR-C"), _c("hs_code", "prefix", ["3303"])),
                _all(_c("office", "eq", "AIR-C"), _c("hs_code", "prefix", ["9102"])),
            ),
            "Documentary check of invoices.",
            False,
            "active",
        )
    )
    add(
        (
            "Medicines by post",
            "Medicines in postal consignments",
            "yellow",
            _all(_c("hs_code", "prefix", ["3004"]), _c("transport_mode", "eq", "5")),
            "Check prescriptions and licences.",
            False,
            "active",
        )
    )
    add(
        (
            "High tax, low value",
            "Undervaluation where duty is high",
            "yellow",
            _all(_c("tax_rate", "gte", 15), _c("unit_value_deviation", "lt", -40)),
            "Valuation check.",
            False,
            "active",
        )
    )
    add(
        (
            "Seasonal: oranges off-season",
            "Origin fraud off-season (hours to weeks)",
            "yellow",
            _all(_c("hs_code", "prefix", ["0805"]), _c("origin", "in", ["TR", "EG"])),
            "Check origin certificates.",
            False,
            "simulated",
        )
    )
    add(
        (
            "Draft: electronics by road",
            "Smuggling of electronics on the northern border",
            "orange",
            _all(_c("office", "eq", "BCP-N"), _c("hs_code", "prefix", ["8517", "8471"])),
            "Scan the truck.",
            False,
            "draft",
        )
    )
    add(
        (
            "Draft: watch list sellers",
            "Sellers linked to seizures",
            "red",
            _all(_c("seller", "in_list", "Watched sellers")),
            "Full examination.",
            True,
            "draft",
        )
    )
    add(
        (
            "Draft: toys by post",
            "Unsafe toys in parcels",
            "yellow",
            _all(_c("hs_code", "prefix", ["9503"]), _c("transport_mode", "eq", "5")),
            "Check CE marking.",
            False,
            "draft",
        )
    )
    add(
        (
            "Retired: apples embargo 2024",
            "Embargo circumvention (ended)",
            "red",
            _all(_c("hs_code", "prefix", ["0808"]), _c("origin", "eq", "PL")),
            "Physical check.",
            False,
            "retired",
        )
    )
    add(
        (
            "Retired: face masks 2021",
            "Pandemic-era face masks",
            "yellow",
            _all(_c("hs_code", "prefix", ["6307"])),
            "Check certificates.",
            False,
            "retired",
        )
    )
    add(
        (
            "Risky importers, textiles",
            "Importers with previous textile fraud",
            "red",
            _all(_c("importer", "in", risky_importers[:6]), _c("hs_code", "prefix", ["61", "62"])),
            "Full examination.",
            False,
            "active",
        )
    )
    add(
        (
            "Risky importers, any goods",
            "Importers with repeated findings",
            "yellow",
            _all(_c("importer", "in", risky_importers[6:14])),
            "Documentary check.",
            False,
            "active",
        )
    )
    add(
        (
            "Watched declarants",
            "Customs brokers under investigation",
            "yellow",
            _all(_c("declarant", "in_list", "Watched declarants")),
            "Documentary check.",
            False,
            "active",
        )
    )
    return P
