"""Scoring one list entry against one party, with the reasons of the score.

The name score aligns tokens regardless of their order (re-ordered names, "Putin Vladimir"):
each query token is paired with at most one entry token, best pairs first (adjacent tokens
left unpaired are also tried as one word: "Nasr Allah"). A pair scores its edit similarity
(optimal string alignment: two swapped letters are one edit), at least SKELETON_SIM when both
share a consonant skeleton (the transliteration variants "Qadhafi"/"Gaddafi"), and 0 below
MIN_PAIR. The name score is the length-weighted share of paired characters; a query token
left unpaired counts in full (the party is called something the entry is not), an entry token
left unpaired too, except a patronymic when the party's every token is paired
(UNPAIRED_PATRONYMIC: lists carry patronymics a declaration leaves out); a token unpaired on
both sides (a substitution) costs SUBSTITUTION_FACTOR more. A shared skeleton counts only for
spellings of about the same length and at least SKELETON_MIN_EDIT alike.

Then the other properties, after yente's logic-v1: an identifier (IMO, LEI, tax or
registration number) both sides carry lifts the score to IDENTIFIER_SCORE; countries that do
not overlap and birth dates that disagree lower it. Every step adds a reason.

The index scores a party's candidates with ``best_names``: the same alignment compiled
(``_align.c``, built by ``make install``), this module being its reference; its results are
compared with this module's in tests/screening/test_align.py.
"""

import importlib
import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from app.screening.normalize import skeleton

#: East Slavic, Turkic patronymics (romanised): left out of a declaration's name, they cost less
_PATRONYMIC = re.compile(r"(.{3}(ovich|evich|ovych|evych|ovna|evna|ivna|yich)|ogly|oglu|kyzy)$")

MIN_PAIR = 0.75
SKELETON_SIM = 0.85
#: a shared skeleton counts only where the spellings are this close too: "Qadhafi"/"Gaddafi"
#: (0.71) and "Mohamed"/"Muhammad" (0.62) are one name; "Gokgrocho"/"Krarkok" (0.22) is not,
#: nor "Penghu"/"Peng" (0.67, but a third longer); "Janukowitsch"/"Yanukovych" are (0.58)
SKELETON_MIN_EDIT = 0.55
PREFIX_SIM = 0.8
#: weight of an entry's patronymic the party's name leaves out ("Vladimirovich")
UNPAIRED_PATRONYMIC = 0.3
#: both names have a token the other lacks: they differ in an element ("Silver" / "Golden")
SUBSTITUTION_FACTOR = 0.9
IDENTIFIER_SCORE = 0.98
IDENTIFIER_MISMATCH = 0.4
COUNTRY_PENALTY = 0.1
BIRTH_YEAR_PENALTY = 0.25
#: a year apart: a typing or calendar slip as often as another person
BIRTH_NEAR_YEAR_PENALTY = 0.1
BIRTH_DAY_PENALTY = 0.05

#: schema codes of the index (uint8) and which entry schemata a query schema may match
SCHEMA_CODES = {"Person": 1, "Company": 2, "Organization": 3, "LegalEntity": 4, "Vessel": 5}
COMPATIBLE = {
    "Person": (1, 4),
    "Company": (2, 3, 4),
    "Organization": (2, 3, 4),
    "LegalEntity": (1, 2, 3, 4),
    "Vessel": (5,),
}


@lru_cache(maxsize=1 << 20)
def token_sim(a: str, b: str, prefix: bool = False) -> float:
    """Similarity of two tokens; ``prefix``: organisation names, where "Air" is "Airlines"
    (not persons: "Abramov" is not "Abramovich"). Cached: common names meet again and again."""
    if a == b:
        return 1.0
    sim = OSA.normalized_similarity(a, b, score_cutoff=MIN_PAIR)
    if (
        sim < SKELETON_SIM
        and len(a) > 2
        and len(b) > 2
        and abs(len(a) - len(b)) <= max(1, max(len(a), len(b)) // 5)
        and skeleton(a) == skeleton(b)
        and OSA.normalized_similarity(a, b) >= SKELETON_MIN_EDIT
    ):
        sim = SKELETON_SIM
    if (
        prefix
        and sim < PREFIX_SIM
        and min(len(a), len(b)) >= 3
        and (a.startswith(b) or b.startswith(a))
    ):
        sim = PREFIX_SIM
    return sim if sim >= MIN_PAIR else 0.0


def _greedy(pairs, query, entry, used_q: int, used_e: int, weight: float):
    """Take the best pairs first; a token (bit of used_q / used_e) pairs once."""
    pairs.sort(reverse=True)
    for sim, qbits, ebits, size in pairs:
        if used_q & qbits or used_e & ebits:
            continue
        used_q |= qbits
        used_e |= ebits
        weight += sim * size
    return used_q, used_e, weight


def _merged(tokens, used: int) -> list[tuple[str, int]]:
    """Adjacent unpaired tokens written as one word: "Nasr Allah" is "Nasrallah"."""
    return [
        (tokens[i] + tokens[i + 1], 3 << i) for i in range(len(tokens) - 1) if not used & (3 << i)
    ]


def _merge_pass(query, entry, prefix, used_q, used_e, weight):
    pairs = []
    for side_merged, other, other_used, merged_is_query in (
        (_merged(query, used_q), entry, used_e, True),
        (_merged(entry, used_e), query, used_q, False),
    ):
        for text, bits in side_merged:
            for j, token in enumerate(other):
                if other_used & (1 << j) or abs(len(text) - len(token)) > len(token) // 3 + 1:
                    continue
                sim = (
                    token_sim(text, token, prefix)
                    if merged_is_query
                    else token_sim(token, text, prefix)
                )
                if sim:
                    size = len(text) + len(token)
                    qe = (bits, 1 << j) if merged_is_query else (1 << j, bits)
                    pairs.append((sim, qe[0], qe[1], size))
    if not pairs:
        return used_q, used_e, weight
    return _greedy(pairs, query, entry, used_q, used_e, weight)


def name_score(query: tuple[str, ...], entry: list[str], prefix: bool = False) -> tuple[float, int]:
    """(score 0..1, paired query tokens) of query tokens against one name's tokens."""
    if not query or not entry:
        return 0.0, 0
    pairs = []
    for i, q in enumerate(query):
        for j, e in enumerate(entry):
            sim = token_sim(q, e, prefix)
            if sim:
                pairs.append((sim, 1 << i, 1 << j, len(q) + len(e)))
    used_q, used_e, weight = _greedy(pairs, query, entry, 0, 0, 0.0)
    full_q, full_e = (1 << len(query)) - 1, (1 << len(entry)) - 1
    if used_q != full_q and used_e != full_e and len(query) + len(entry) > 2:
        used_q, used_e, weight = _merge_pass(query, entry, prefix, used_q, used_e, weight)
    total = sum(len(q) for q in query)
    # the discount is for a patronymic the party's name leaves out, not for a surname ending
    # like one ("Pukenovich") that the party's own surname ("Guzinuk") fails to pair with
    query_whole = used_q == full_q
    for j, token in enumerate(entry):
        if used_e & (1 << j):
            total += len(token)
        elif query_whole and _patronymic(token):
            total += len(token) * UNPAIRED_PATRONYMIC
        else:
            total += len(token)
    score = weight / total
    if used_q != full_q and used_e != full_e:
        score *= SUBSTITUTION_FACTOR
    return score, used_q.bit_count()


def best_name(query: tuple[str, ...], encoded: str, prefix=False) -> tuple[float, int, int, str]:
    """The best of an entry's names: (score, paired, entry tokens, that name's tokens)."""
    best = (0.0, 0, 0, "")
    for line in encoded.split("\t"):
        tokens = line.split(" ")
        score, paired = name_score(query, tokens, prefix)
        if score > best[0]:
            best = (score, paired, len(tokens), line)
    return best


def _compiled():
    """The C alignment (app/screening/_align.c) if it is built and has these constants."""
    try:
        # by name: "from app.screening import _align" imports the package (its views too)
        _align = importlib.import_module(f"{__package__}._align")
    except ImportError:
        return None
    same = all(
        getattr(_align, name) == globals()[name]
        for name in ("MIN_PAIR", "SKELETON_SIM", "SKELETON_MIN_EDIT", "PREFIX_SIM",
                     "UNPAIRED_PATRONYMIC", "SUBSTITUTION_FACTOR")
    )  # fmt: skip
    return _align if same else None


_ALIGN = _compiled()


@lru_cache(maxsize=1 << 16)
def _patronymic(token: str) -> bool:
    return _PATRONYMIC.search(token) is not None


def best_names(query: tuple[str, ...], names: list[str], prefix=False) -> list[tuple]:
    """``best_name`` of each entry's encoded names, compiled where it is built (a party's
    twenty candidates: ~0.3 ms in Python, ~0.02 ms in C)."""
    if _ALIGN is not None:
        out = _ALIGN.best_names(query, names, prefix, skeleton, _patronymic)
        if out is not None:
            return out
    return [best_name(query, encoded, prefix) for encoded in names]


def _birth_adjust(query_date: str, dates: str) -> tuple[float, str | None]:
    listed = dates.split(" ")
    if query_date in listed:
        return 0.0, f"birth date {query_date} equal"
    q_year = query_date[:4]
    if any(d[:4] == q_year for d in listed):
        if any(len(d) == 4 or len(query_date) == 4 for d in listed):
            return 0.0, f"birth year {q_year} equal"
        return -BIRTH_DAY_PENALTY, f"birth date {query_date} differs in the day ({listed[0]})"
    near = any(
        d[:4].isdigit() and q_year.isdigit() and abs(int(d[:4]) - int(q_year)) == 1 for d in listed
    )
    penalty = BIRTH_NEAR_YEAR_PENALTY if near else BIRTH_YEAR_PENALTY
    return -penalty, f"birth date {query_date} differs ({listed[0]})"


def score_entry(
    q_tokens: tuple[str, ...],
    q_ids: tuple[str, ...],
    q_country: str | None,
    q_birth: str | None,
    q_person: bool,
    names: str,
    idents: str | None,
    countries: str | None,
    births: str | None,
    floor: float = 0.0,
    best: tuple | None = None,
) -> tuple[float, tuple[str, ...]]:
    """(score, reasons); below ``floor`` on the name alone, with no identifier to lift it,
    the score is returned without reasons (country and birth date only lower it).
    ``best``: the entry's ``best_name``, when computed already (``best_names``)."""
    score, paired, entry_len, line = best or best_name(q_tokens, names, prefix=not q_person)
    if score < floor and not (idents and q_ids):
        return score, ()
    reasons = [f"name tokens {paired}/{max(len(q_tokens), entry_len)} ({line}) {score:.2f}"]
    if idents and q_ids:
        score = _identifiers(score, q_ids, idents, reasons)
    if q_country and countries:
        listed = countries.split(" ")
        if q_country in listed:
            reasons.append(f"country {q_country.upper()} equal")
        else:
            score -= COUNTRY_PENALTY
            reasons.append(f"country {q_country.upper()} not {'/'.join(listed).upper()}")
    if q_birth and births:
        delta, reason = _birth_adjust(q_birth, births)
        score += delta
        reasons.append(reason)
    return max(0.0, min(1.0, score)), tuple(reasons)


def _identifiers(score: float, q_ids: tuple[str, ...], idents: str, reasons: list) -> float:
    """Equal identifiers lift the score; an IMO or LEI the party has that differs from the
    entry's (both of a format nothing else has) lowers it, as a renamed ship keeps its IMO."""
    pairs = [kv.partition(":")[::2] for kv in idents.split(" ")]
    for kind, value in pairs:
        if value in q_ids:
            reasons.append(f"{_ident_label(kind)} {value} equal")
            return max(score, IDENTIFIER_SCORE)
    for kind, value in pairs:
        fmt = _FORMATS.get(kind)
        other = next((q for q in q_ids if fmt and fmt(q)), None)
        if other:
            reasons.append(f"{_ident_label(kind)} {other} not {value}")
            return score - IDENTIFIER_MISMATCH
    return score


_FORMATS = {
    "imoNumber": lambda v: len(v) == 7 and v.isdigit(),
    "leiCode": lambda v: len(v) == 20 and v[-2:].isdigit(),
}
_LABELS = {
    "imoNumber": "IMO",
    "leiCode": "LEI",
    "taxNumber": "tax number",
    "innCode": "INN",
    "ogrnCode": "OGRN",
    "registrationNumber": "registration number",
    "vatCode": "VAT",
    "passportNumber": "passport",
    "idNumber": "ID number",
    "swiftBic": "SWIFT/BIC",
    "mmsi": "MMSI",
}


def _ident_label(kind: str) -> str:
    return _LABELS.get(kind, kind)
