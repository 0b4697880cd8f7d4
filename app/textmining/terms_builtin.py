"""Built-in customs term lists that seed the editable ``news_term`` table.

The lists are data: ``data/terms.json`` beside this module (packaged with it), read once at
import. Each term is ``canonical: [synonyms, street names, spelling variants]``; matching is
case-insensitive and plural forms of single nouns are added automatically for the
"countable" categories (see ``app.textmining.nlp.expand_synonyms``). The file's ``notes``
say why a term stands on its own. The categories stay here: code branches on them.
"""

import json
from pathlib import Path

#: categories whose terms come from these lists (editable in the UI)
TERM_CATEGORIES = {
    "commodity": "Commodity",
    "transport": "Transport mode / conveyance",
    "concealment": "Concealment / modus operandi",
    "crossing": "Border crossing, port, airport",
    "route": "Country / route",
    "timeframe": "Time frame",
}
#: categories recognised by patterns or the statistical model
OTHER_CATEGORIES = {
    "quantity": "Quantity",
    "person": "Person",
    "organisation": "Organisation",
    "place": "Place",
    "vehicle": "Vehicle",
    "vessel": "Vessel",
}
CATEGORIES = {**TERM_CATEGORIES, **OTHER_CATEGORIES}
#: categories whose mentions the workbench proposes for the entity registry
WORKBENCH_CATEGORIES = ("person", "organisation", "vehicle", "vessel")


def _load() -> dict:
    with (Path(__file__).parent / "data" / "terms.json").open(encoding="utf-8") as fh:
        return json.load(fh)


_DATA = _load()
#: category -> canonical term -> synonyms
BUILTIN_TERMS: dict[str, dict[str, list[str]]] = _DATA["terms"]
#: synonyms moved out of a term into a term of their own (category, from, to): applied to
#: stored built-in term rows and to stored mentions by ``service.apply_term_splits``
TERM_SPLITS: tuple[tuple[str, str, str], ...] = tuple(tuple(s) for s in _DATA["term_splits"])
#: forms the old lists held that the new term takes over (plurals are added when matching)
SPLIT_FORMS: dict[tuple[str, str], tuple[str, ...]] = {
    (s["category"], s["term"]): tuple(s["forms"]) for s in _DATA["split_forms"]
}
#: words that never count as an organisation or person on their own (model noise)
GENERIC_NAMES: set[str] = set(_DATA["generic_names"])
