"""Name fingerprints for entity resolution: transliterated, normalised, token-sorted."""

import re

from anyascii import anyascii

# Legal forms and fillers that say nothing about identity.
STOP_TOKENS = frozenset(
    [
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "inc",
        "co",
        "corp",
        "corporation",
        "company",
        "gmbh",
        "ag",
        "kg",
        "sa",
        "sarl",
        "sas",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "doo",
        "dooel",
        "sh",
        "shpk",
        "ooo",
        "zao",
        "oao",
        "jsc",
        "pjsc",
        "sp",
        "zoo",
        "kft",
        "the",
        "and",
        "of",
    ]
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def tokens(name: str) -> list[str]:
    """Lower-case ASCII tokens of ``name`` (any script transliterated), legal forms dropped."""
    text = _NON_WORD.sub(" ", anyascii(name or "").lower())
    words = [w for w in text.split() if w]
    kept = [w for w in words if w not in STOP_TOKENS]
    return kept or words


def fingerprint(name: str) -> str:
    """ "Petrov, Ivan" / "Иван Петров" / "IVAN PETROV LTD" -> "ivan petrov"."""
    return " ".join(sorted(set(tokens(name))))[:300]


def blocking_tokens(names) -> set[str]:
    """Tokens used to find candidates: long enough to be telling."""
    found = set()
    for name in names:
        found.update(t for t in tokens(name) if len(t) >= 3)
    return found
