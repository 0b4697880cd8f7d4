"""Scoring one list entry against one party, with the reasons of the score.

The name score aligns tokens regardless of their order (re-ordered names, "Putin Vladimir"):
each query token is paired with at most one entry token, best pairs first. A pair scores its
Levenshtein similarity, at least SKELETON_SIM when both share a consonant skeleton (the
transliteration variants "Qadhafi"/"Gaddafi"), and 0 below MIN_PAIR. The name score is the
length-weighted share of paired characters; a query token left unpaired counts in full (the
party is called something the entry is not), an entry token left unpaired counts
UNPAIRED_ENTRY (lists carry patronymics and middle names a declaration leaves out).

Then the other properties, after yente's logic-v1: an identifier (IMO, LEI, tax or
registration number) both sides carry lifts the score to IDENTIFIER_SCORE; countries that do
not overlap and birth dates that disagree lower it. Every step adds a reason.
"""

from rapidfuzz.distance import Levenshtein

from app.screening.normalize import skeleton

MIN_PAIR = 0.55
SKELETON_SIM = 0.85
UNPAIRED_ENTRY = 0.5
IDENTIFIER_SCORE = 0.98
COUNTRY_PENALTY = 0.1
BIRTH_YEAR_PENALTY = 0.2
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


def token_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    sim = Levenshtein.normalized_similarity(a, b)
    if sim < SKELETON_SIM and len(a) > 2 and len(b) > 2 and skeleton(a) == skeleton(b):
        sim = SKELETON_SIM
    return sim if sim >= MIN_PAIR else 0.0


def name_score(query: tuple[str, ...], entry: list[str]) -> tuple[float, int]:
    """(score 0..1, paired tokens) of query tokens against one name's tokens."""
    if not query or not entry:
        return 0.0, 0
    pairs = []
    for i, q in enumerate(query):
        for j, e in enumerate(entry):
            sim = token_sim(q, e)
            if sim:
                pairs.append((sim, i, j))
    pairs.sort(reverse=True)
    used_q, used_e, weight = set(), set(), 0.0
    for sim, i, j in pairs:
        if i in used_q or j in used_e:
            continue
        used_q.add(i)
        used_e.add(j)
        weight += sim * (len(query[i]) + len(entry[j]))
    paired_e = sum(len(entry[j]) for j in used_e)
    unpaired_e = sum(len(t) for t in entry) - paired_e
    total = sum(len(q) for q in query) + paired_e + UNPAIRED_ENTRY * unpaired_e
    return weight / total, len(used_q)


def best_name(query: tuple[str, ...], encoded: str) -> tuple[float, int, int, str]:
    """The best of an entry's names: (score, paired, entry tokens, that name's tokens)."""
    best = (0.0, 0, 0, "")
    for line in encoded.split("\t"):
        tokens = line.split(" ")
        score, paired = name_score(query, tokens)
        if score > best[0]:
            best = (score, paired, len(tokens), line)
    return best


def _birth_adjust(query_date: str, dates: str) -> tuple[float, str | None]:
    listed = dates.split(" ")
    if query_date in listed:
        return 0.0, f"birth date {query_date} equal"
    q_year = query_date[:4]
    if any(d[:4] == q_year for d in listed):
        if any(len(d) == 4 or len(query_date) == 4 for d in listed):
            return 0.0, f"birth year {q_year} equal"
        return -BIRTH_DAY_PENALTY, f"birth date {query_date} differs in the day ({listed[0]})"
    return -BIRTH_YEAR_PENALTY, f"birth date {query_date} differs ({listed[0]})"


def score_entry(
    q_tokens: tuple[str, ...],
    q_ids: tuple[str, ...],
    q_country: str | None,
    q_birth: str | None,
    names: str,
    idents: str | None,
    countries: str | None,
    births: str | None,
) -> tuple[float, tuple[str, ...]]:
    score, paired, entry_len, line = best_name(q_tokens, names)
    reasons = [f"name tokens {paired}/{max(len(q_tokens), entry_len)} ({line}) {score:.2f}"]
    if idents and q_ids:
        for kind_value in idents.split(" "):
            kind, _, value = kind_value.partition(":")
            if value in q_ids:
                score = max(score, IDENTIFIER_SCORE)
                reasons.append(f"{_ident_label(kind)} {value} equal")
                break
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
