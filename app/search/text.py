"""How both search backends read text: folding, query parsing, identifiers, typo allowance.

Kept in one place so Whoosh and PostgreSQL agree on what a query means:

- text is folded to lower-case ASCII (any script transliterated);
- a query chunk (between spaces) holding a digit is an identifier, matched on its
  normalised form: spaces, dashes, dots and slashes removed, check digit kept
  ("123456-6" is ``1234566``; the whole query "MSCU 123456-6" is also tried as
  ``mscu1234566``);
- other words tolerate typos (``max_edits``) against the indexed vocabulary of titles,
  names and bodies, by optimal string alignment distance (a swap is one edit).
"""

import re
from dataclasses import dataclass, field

from anyascii import anyascii

WORD = re.compile(r"[a-z0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
#: words the typo tolerance considers (no digits: numbers and identifiers match exactly)
MIN_VOCAB_LEN = 3
MAX_QUERY_PARTS = 12
#: whole-query identifier alternative: only for queries short enough to be one identifier
MAX_IDENT_LEN = 40


def fold(value: str) -> str:
    """Lower-case ASCII (transliterated) text: what both backends index and query."""
    return anyascii(value or "").lower()


def has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def normalise_identifier(value: str) -> str:
    """``MSCU 123456-6`` -> ``mscu1234566``: separators out, every character kept."""
    return _NOT_ALNUM.sub("", fold(value))


def max_edits(token: str) -> int:
    """Typo allowance per word, the same on both backends. Identifiers and numbers (any
    digit) must match exactly: a container one digit off is another container."""
    if len(token) < 4 or has_digit(token):
        return 0
    return 1 if len(token) <= 5 else 2


@dataclass
class Chunk:
    """A query chunk holding a digit: its normalised form as one identifier, or else all
    of its pieces ("SENTINEL-7f3a9c" is ``sentinel7f3a9c`` or both ``sentinel`` and
    ``7f3a9c``)."""

    ident: str
    words: list[str] = field(default_factory=list)
    idents: list[str] = field(default_factory=list)


@dataclass
class ParsedQuery:
    #: plain words (typo-tolerant)
    words: list[str] = field(default_factory=list)
    #: chunks with digits (identifiers: exact, or by prefix from 4 characters)
    chunks: list[Chunk] = field(default_factory=list)
    #: the whole query as one identifier, when it has a digit and several chunks
    whole: str | None = None

    def __bool__(self) -> bool:
        return bool(self.words or self.chunks)


def parse_query(query: str) -> ParsedQuery:
    parsed = ParsedQuery()
    chunks = fold(query).split()
    for chunk in chunks:
        pieces = WORD.findall(chunk)
        if not has_digit(chunk):
            parsed.words += [w for w in pieces if w not in parsed.words]
            continue
        ident = "".join(pieces)
        if ident in [c.ident for c in parsed.chunks]:
            continue
        item = Chunk(ident)
        if len(pieces) > 1:
            item.words = [p for p in pieces if not has_digit(p)]
            item.idents = [p for p in pieces if has_digit(p)]
        parsed.chunks.append(item)
    parsed.words = parsed.words[:MAX_QUERY_PARTS]
    parsed.chunks = parsed.chunks[: MAX_QUERY_PARTS - len(parsed.words)]
    whole = normalise_identifier(query)
    if len(chunks) > 1 and has_digit(whole) and 5 <= len(whole) <= MAX_IDENT_LEN:
        parsed.whole = whole
    return parsed


def query_tokens(query: str) -> list[str]:
    """The query's words and identifiers (kept for callers of the older interface)."""
    parsed = parse_query(query)
    return parsed.words + [c.ident for c in parsed.chunks]


def identifier_terms(names) -> list[str]:
    """What a document's names contribute to exact identifier matching: every word with a
    digit, and each name holding a digit in its normalised form."""
    out: list[str] = []
    for name in names:
        folded = fold(name)
        out += [w for w in WORD.findall(folded) if has_digit(w)]
        whole = _NOT_ALNUM.sub("", folded)
        if has_digit(whole) and len(whole) <= MAX_IDENT_LEN * 2:
            out.append(whole)
    return list(dict.fromkeys(out))


def vocabulary_words(*texts: str) -> set[str]:
    """Words of folded text that typo tolerance may expand a query word to."""
    return {
        w for t in texts for w in WORD.findall(t) if len(w) >= MIN_VOCAB_LEN and not has_digit(w)
    }


def close_words(token: str, choices) -> list[str]:
    """Words of ``choices`` within the typo allowance of ``token`` (not ``token`` itself),
    nearest first, at most 50."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    edits = max_edits(token)
    if not edits:
        return []
    found = process.extract(token, choices, scorer=OSA.distance, score_cutoff=edits, limit=51)
    return [word for word, _score, _i in found if word != token][:50]
