"""Name, identifier and date normalisation for screening (after OpenSanctions' nomenklatura).

A name becomes a tuple of ASCII tokens: case folded, company forms removed (``rigour``'s
org-type database: "OOO", "Общество с ограниченной ответственностью", "LLC", "GmbH" ...),
person prefixes removed, transliterated (``anyascii`` for Latin and Cyrillic, which it does
well and fast; ``normality``/ICU for other scripts, where anyascii drops Arabic's long vowels),
and split on anything that is not a letter or a digit. Each token also has a consonant
*skeleton* (vowels dropped, transliteration digraphs folded: kh/q/g/c -> k, dh -> d ...), so
"Qadhafi", "Gaddafi" and the Arabic "القذافي" share a key: the blocking key of the index and a
similarity floor in scoring.
"""

import importlib
import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii
from normality import ascii_text
from rigour.names import remove_org_types, remove_person_prefixes

_SPLIT = re.compile(r"[^a-z0-9]+")
#: apostrophes and the ayn/hamza marks romanisation leaves: part of the word, not a break
_MARKS = re.compile(r"[\'`?\u02bb\u02bc\u02bf\u02be\u2018\u2019]")
#: Arabic-script articles written on the word: "القذافي" reads "alqdhafy"
_ARABIC_ARTICLE = re.compile(r"^(al|el)(?=[a-z]{3})")
#: particles that are no part of a name's identity ("al-Qaddafi", "bin Laden")
_PARTICLES = frozenset({"al", "el", "ul", "bin", "ibn", "bint", "von", "van", "der", "de", "the"})
#: the second half of Arabic compound names, written apart or together
_THEOPHORIC = frozenset({"allah", "allh", "ullah", "ulla", "alla"})
#: words of organisation names that say what, not who ("Rosneft Oil Company")
_ORG_GENERIC = frozenset({"company", "co", "corp", "corporation", "inc", "incorporated"})
#: transliteration digraphs first (longest first), then letter classes
_DIGRAPHS = (
    ("shch", "s"),
    ("sch", "s"),
    ("tch", "c"),
    ("dzh", "j"),
    ("kh", "k"),
    ("gh", "k"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("zh", "j"),
    ("dj", "j"),
    ("sh", "s"),
    ("ch", "c"),
    ("ts", "c"),
    ("tz", "c"),
    ("ck", "k"),
)
#: letter classes and vowels dropped, in one table (no class maps to a vowel)
_LETTERS = str.maketrans(
    {"q": "k", "g": "k", "c": "k", "w": "v", "z": "s", "x": "ks", **dict.fromkeys("aeiouy")}
)
_DOUBLES = re.compile(r"(.)\1+")
_IDENT_JUNK = re.compile(r"[^A-Z0-9]+")
#: a kind written before the number ("INN 7701234567", "IMO: 9876543", "LEI 5493...")
_IDENT_LABEL = re.compile(
    r"^\s*(IMO|INN|OGRN|LEI|VAT|TIN|EIN|KPP|MMSI|REG|TAX ID|TAX)\b[\s:#.\-]*"
    r"(NO\b\.?|NR\b\.?)?[\s:#.\-]*"
)
#: scripts anyascii romanises as a transliteration table would
_LATIN_OR_CYRILLIC = re.compile(r"^[\u0000-\u024f\u0400-\u052f\u1e00-\u1eff\u2000-\u206f]*$")


def _romanise(text: str) -> str:
    if _LATIN_OR_CYRILLIC.match(text):
        return anyascii(text)
    return ascii_text(text) or anyascii(text)


@lru_cache(maxsize=65536)
def name_tokens(name: str, schema: str = "LegalEntity") -> tuple[str, ...]:
    """The comparable tokens of one name (order kept; the matcher ignores it)."""
    text = unicodedata.normalize("NFC", name or "").casefold()
    if schema == "Person":
        text = remove_person_prefixes(text)
    else:
        text = remove_org_types(text, replacement=" ")
    arabic = not _LATIN_OR_CYRILLIC.match(text)
    tokens = []
    for token in _SPLIT.split(_MARKS.sub("", _romanise(text).lower())):
        if not token or token in _PARTICLES or (schema != "Person" and token in _ORG_GENERIC):
            continue
        if arabic:
            token = _ARABIC_ARTICLE.sub("", token)
        if token in _THEOPHORIC and tokens:
            # "Nasr Allah" is the one name Nasrallah, "Abd Allah" is Abdallah
            tokens[-1] += token
            continue
        tokens.append(token)
    return tuple(tokens)


def _compiled():
    """The compiled skeletons and candidate search (app/screening/_blocking.c), if built."""
    try:
        # by name: "from app.screening import _blocking" imports the package (its views too)
        return importlib.import_module(f"{__package__}._blocking")
    except ImportError:
        return None


_BLOCKING = _compiled()


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """The consonant skeleton of a token: its blocking key and phonetic class (compiled for
    plain [a-z0-9] tokens where _blocking.c is built; ``skeleton_py`` is the reference)."""
    if _BLOCKING is not None:
        out = _BLOCKING.skeleton(token)
        if out is not None:
            return out
    return skeleton_py(token)


def skeleton_py(token: str) -> str:
    if token.isdigit():
        return token
    # German and Polish write "Ja-", "Ju-" where English writes "Ya-", "Yu-" (Janukowitsch)
    out = "y" + token[1:] if token[:2] in ("ja", "je", "ju") else token
    for pair, repl in _DIGRAPHS:
        if pair in out:
            out = out.replace(pair, repl)
    # str.translate and a match object's group, not re.sub's template (~9 -> ~4.5 us a word)
    out = out.translate(_LETTERS)
    if _DOUBLES.search(out):
        out = _DOUBLES.sub(_first_group, out)
    return out or token


def _first_group(match: re.Match) -> str:
    return match[1]


@lru_cache(maxsize=65536)
def transposed_skeletons(token: str) -> tuple[str, ...]:
    """The skeletons of ``token`` with two adjacent letters swapped (the commonest typing
    slip), those differing from its own skeleton, sorted. A party's new word is probed a
    dozen times: compiled where built (~15 -> ~1 us a word)."""
    if _BLOCKING is not None:
        out = _BLOCKING.transposed(token)
        if out is not None:
            return out
    return transposed_skeletons_py(token)


def transposed_skeletons_py(token: str) -> tuple[str, ...]:
    own = skeleton(token)
    out = {skeleton(token[:i] + token[i + 1] + token[i] + token[i + 2 :])
           for i in range(len(token) - 1) if token[i] != token[i + 1]}  # fmt: skip
    out.discard(own)
    return tuple(sorted(out))


def identifier(value: str) -> str | None:
    """An identifier as compared: upper case letters and digits, a kind label dropped.

    Shorter than 5 characters it is too likely to collide and is not compared."""
    raw = anyascii(value or "").upper()
    text = _IDENT_JUNK.sub("", _IDENT_LABEL.sub("", raw))
    if text.startswith("IMO") and text[3:].isdigit():
        text = text[3:]
    return text if len(text) >= 5 else None


def country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in lower case, or None (FtM codes such as "ru", "suhh")."""
    text = (value or "").strip().lower()
    return text if text.isalpha() and 2 <= len(text) <= 5 else None


def encode_names(names) -> str:
    """Names as stored for the index: tokens joined by spaces, names by tabs, duplicates once."""
    seen = []
    for tokens in names:
        line = " ".join(tokens)
        if line and line not in seen:
            seen.append(line)
    return "\t".join(seen)
