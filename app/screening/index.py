"""The in-memory screening index: one segment per loaded list version.

A segment keeps, per entry, a handful of compact columns (strings in lists, schema and version
key in numpy arrays; empty identifier/country/date fields share one None) and an inverted
index from blocking keys (token skeletons, ``=`` tokens as written, ``#`` identifiers, ``@``
birth years) to entry positions in
CSR form: a dict of keys to numbers, an offsets array and one int32 postings array. A query
looks up its keys, counts shared keys per entry over the rarer posting lists, and scores only
the best MAX_CANDIDATES entries. The counting is compiled (``_blocking.c``, built by ``make
install``) where it is built; ``Segment.candidates_py`` is its reference, in numpy.
"""

import json
import threading
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from app.screening import matcher
from app.screening.normalize import _BLOCKING, skeleton, transposed_skeletons

#: entries scored per query and list (those sharing most keys with it)
MAX_CANDIDATES = 20
#: a key on more entries than this only adds to the counts of candidates found by rarer keys
#: (rare words first, as IDF weighs them: a first name shared with thousands does not fan out;
#: 5000 -> 500 at 100,000 synthetic entries: CPU per party p50 0.70 -> 0.20 ms)
COMMON_KEY = 500
#: a word's skeleton on at most this many entries is also looked up with letters swapped
TYPO_PROBE = 50
#: an identifier shared outweighs any number of name keys
IDENT_WEIGHT = 100


def _strings(value) -> list[str]:
    """A JSON list of plain strings, given as a list or as its JSON text (the index reads the
    text: countries and dates hold no quote, comma or escape, and json.loads of a million
    small arrays was a third of the index's build time)."""
    if not isinstance(value, str):
        return list(value or ())
    if "\\" in value:
        return json.loads(value)
    inner = value.strip()[1:-1].strip()
    return [part.strip().strip('"') for part in inner.split(",")] if inner else []


_SCHEMA_OK = {codes: np.isin(np.arange(8), codes) for codes in set(matcher.COMPATIBLE.values())}
_SCHEMA_MASK = {codes: ok.astype(np.uint8).tobytes() for codes, ok in _SCHEMA_OK.items()}


def _member(sorted_list: np.ndarray, values: np.ndarray) -> np.ndarray:
    """1 where a value (sorted, distinct) is in the sorted posting list, else 0 (int32).

    The shorter side is searched in the longer: 45,000 namesakes of "Liu" looked up in the
    770 entries with "Lu" as written cost ~0.5 ms, the 770 looked up in the 45,000 ~0.02."""
    if not len(values) or not len(sorted_list):
        return np.zeros(len(values), dtype=np.int32)
    if len(sorted_list) < len(values):
        out = np.zeros(len(values), dtype=np.int32)
        at = np.searchsorted(values, sorted_list)
        inside = at < len(values)
        at, listed = at[inside], sorted_list[inside]
        out[at[values[at] == listed]] = 1
        return out
    hit = np.searchsorted(sorted_list, values)
    hit[hit >= len(sorted_list)] = 0
    return (sorted_list[hit] == values).astype(np.int32)


def _union(lists) -> np.ndarray:
    """The entries on any of the (sorted) posting lists, sorted."""
    if len(lists) == 1:
        return lists[0]
    if not lists:
        return np.empty(0, dtype=np.int32)
    # sort and drop repeats: numpy's hash-based unique costs ~10x more on these small arrays
    merged = np.sort(np.concatenate(lists))
    keep = np.empty(len(merged), dtype=bool)
    keep[0] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged[keep]


@dataclass(slots=True)
class Candidate:
    position: int
    score: float
    reasons: tuple[str, ...]


class Segment:
    """One list version's entries and their blocking index."""

    def __init__(self, list_id: int, signature: tuple, rows: Iterable[tuple]):
        """rows: (entry_id, caption, schema, match_names, match_ids, countries, births, key)."""
        self.list_id = list_id
        self.signature = signature
        self._marks = threading.local()
        self.entry_ids: list[str] | tuple[str, ...] = []
        self.captions: list[str] | tuple[str, ...] = []
        self.names: list[str] | tuple[str, ...] = []
        self.idents: list[str | None] | tuple[str | None, ...] = []
        self.countries: list[str | None] | tuple[str | None, ...] = []
        self.births: list[str | None] | tuple[str | None, ...] = []
        schemas, keys = array("B"), array("q")
        key_ids: dict[str, int] = {}
        post_key, post_entry = array("i"), array("i")
        interned: dict[str, str] = {}
        for pos, (entry_id, caption, schema, names, idents, countries, births, key) in enumerate(
            rows
        ):
            self.entry_ids.append(entry_id)
            self.captions.append(caption)
            self.names.append(names)
            self.idents.append(idents or None)
            text = " ".join(_strings(countries)) or None
            self.countries.append(interned.setdefault(text, text) if text else None)
            born = _strings(births)
            self.births.append(" ".join(born) or None)
            schemas.append(matcher.SCHEMA_CODES.get(schema, 4))
            keys.append(key)
            tokens = {t for t in names.replace("\t", " ").split(" ") if t}
            entry_keys = {skeleton(t) for t in tokens}
            entry_keys.update("=" + t for t in tokens)
            if idents:
                entry_keys.update("#" + kv.partition(":")[2] for kv in idents.split(" "))
            # the dates as read (births comes as JSON text: iterating it gave "@[", "@1" ...)
            entry_keys.update("@" + day[:4] for day in born)
            for k in entry_keys:
                post_key.append(key_ids.setdefault(k, len(key_ids)))
                post_entry.append(pos)
        self.schemas = np.frombuffer(schemas, dtype=np.uint8).copy()
        self.version_keys = np.frombuffer(keys, dtype=np.int64).copy()
        self.key_ids = key_ids
        k = np.frombuffer(post_key, dtype=np.int32)
        e = np.frombuffer(post_entry, dtype=np.int32)
        order = np.argsort(k, kind="stable")  # stable: each posting list stays sorted by entry
        self.postings = e[order].copy()
        counts = np.bincount(k, minlength=len(key_ids))
        self.offsets = np.zeros(len(key_ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        # tuples of strings, not lists: Python's cyclic collector stops tracking them, and
        # every full collection walked the six lists of a million strings (~250 ms a
        # collection at 1,000,000 entries, paid by whichever request triggered it)
        for column in ("entry_ids", "captions", "names", "idents", "countries", "births"):
            setattr(self, column, tuple(getattr(self, column)))

    def __len__(self) -> int:
        return len(self.entry_ids)

    def _both(self, short: np.ndarray, other: np.ndarray) -> np.ndarray | None:
        """The entries on both (sorted) lists; None when none is. Through a mark per entry
        (a byte array of the segment's size, one per thread, left clean): two common words
        ("Trading", "Oil": 73,000 and 45,000 entries at a million) met by binary search
        cost ~1 ms, a tenth of it marked."""
        marks = getattr(self._marks, "array", None)
        if marks is None:
            marks = self._marks.array = np.zeros(len(self.entry_ids), dtype=np.bool_)
        marks[short] = True
        both = other[marks[other]]
        marks[short] = False
        return both if len(both) else None

    def _postings(self, key: str) -> np.ndarray | None:
        kid = self.key_ids.get(key)
        if kid is None:
            return None
        return self.postings[self.offsets[kid] : self.offsets[kid + 1]]

    def _name_groups(self, prepared) -> list[list[int]]:
        """Per name key of the query, the ids of the posting lists that make its list. A word
        whose skeleton is rare or on no entry also brings the entries having the skeleton of
        the word with two adjacent letters swapped back ("Bortel" for "Botrel"): a typing
        slip of two consonants changes the skeleton, and beside a common first name the
        entry was left to chance."""
        groups = {}
        key_id = self.key_ids.get
        for token in prepared.tokens:
            key = skeleton(token) if len(token) > 1 else None
            if key is None or key in groups:
                continue
            own = key_id(key)
            ids = [] if own is None else [own]
            if len(token) >= 4 and (own is None or self._length(own) <= TYPO_PROBE):
                ids += [k for k in map(key_id, transposed_skeletons(token)) if k is not None]
            if ids:
                groups[key] = ids
        return list(groups.values())

    def _length(self, kid: int) -> int:
        return int(self.offsets[kid + 1] - self.offsets[kid])

    def _by_id(self, kid: int) -> np.ndarray:
        return self.postings[self.offsets[kid] : self.offsets[kid + 1]]

    def candidates(self, prepared) -> list[int] | np.ndarray:
        """Positions of the entries sharing most blocking keys with the query (see
        ``candidates_py``), compiled where ``_blocking.c`` is built: the same entries."""
        if _BLOCKING is None:
            return self.candidates_py(prepared)
        key_id = self.key_ids.get
        keys = _BLOCKING.query_keys(self.key_ids, self.offsets, prepared.tokens, TYPO_PROBE)
        if keys is None:  # a token that is not plain [a-z0-9]: its keys in Python
            keys = (
                len(prepared.keys),
                self._name_groups(prepared),
                [k for k in map(key_id, prepared.exact_keys) if k is not None],
            )
        n_keys, name_groups, exact_ids = keys
        return _BLOCKING.candidates(
            self.postings,
            self.offsets,
            self.schemas,
            name_groups,
            n_keys,
            [k for k in map(key_id, prepared.ident_keys) if k is not None],
            exact_ids,
            key_id(prepared.year_key, -1) if prepared.year_key else -1,
            _SCHEMA_MASK[prepared.schema_ok],
            MAX_CANDIDATES,
            COMMON_KEY,
            IDENT_WEIGHT,
        )

    def candidates_py(self, prepared) -> np.ndarray:
        """Positions of the entries sharing most blocking keys with the query.

        An entry is a candidate when it shares an identifier, or all the name's keys but one
        (a consonant typo changes a skeleton; a vowel typo does not), or one of a name of one
        or two tokens. Candidates rank by name keys shared, then by the birth year; of equal
        rank, the earlier entries."""
        name_lists = [_union([self._by_id(k) for k in ids]) for ids in self._name_groups(prepared)]
        ident_lists = [p for p in map(self._postings, prepared.ident_keys) if p is not None]
        if not name_lists and not ident_lists:
            return np.empty(0, dtype=np.int32)
        name_lists.sort(key=len)
        need = max(1, len(prepared.keys) - 1)
        # the entries found through the rarer keys; an entry that shares `need` keys shares
        # at least one of the len(keys) - need + 1 rarest, so the commoner ones only count
        first = name_lists[: len(prepared.keys) - need + 1]
        rare = [p for p in first if len(p) <= COMMON_KEY]
        exact_lists = [p for p in map(self._postings, prepared.exact_keys) if p is not None]
        within: list = []  # posting lists holding every entry found (no look-up needed)
        if rare or not name_lists:
            found = _union(rare + ident_lists)
        else:
            # every key is common ("Ali Hussein"): start from the words as written, if rarer,
            # else from the entries sharing the two rarest keys (ranking tens of thousands
            # of namesakes of one word cost ~5 ms at a million entries)
            small = [p for p in exact_lists if len(p) <= COMMON_KEY]
            unknown = len(name_lists) < len(prepared.keys)  # a word no entry has
            both = (
                self._both(name_lists[0], name_lists[1])
                if not small and len(name_lists) > 1 and not unknown
                else None
            )
            if small or both is not None:
                found = _union((small or [both]) + ident_lists)
                within = [] if small or ident_lists else name_lists[:2]
            elif unknown:
                # common words and a word no entry has ("John Detrolflors", "Gamjundkit
                # Trading Holding"): their namesakes share the common words only, and which
                # twenty of thousands were scored was down to their order (27,889 Johns
                # ranked was the 1M matcher's CPU p99, ~6 ms; 5,000 "Trading Holding"s
                # intersected and ranked, ~0.5 ms)
                found = _union(ident_lists)
            else:
                found = _union(name_lists[:1] + ident_lists)
                within = [] if ident_lists else name_lists[:1]
        counts = np.full(len(found), len(within), dtype=np.int32)
        for other in name_lists:
            if not any(other is known for known in within):
                counts += _member(other, found)
        keep = counts >= need
        if ident_lists:
            ident_hit = np.zeros(len(found), dtype=bool)
            for ident in ident_lists:
                ident_hit |= _member(ident, found).astype(bool)
            keep |= ident_hit
            counts = counts + ident_hit * IDENT_WEIGHT
        keep &= _SCHEMA_OK[prepared.schema_ok][self.schemas[found]]
        found, counts = found[keep], counts[keep]
        if len(found) > MAX_CANDIDATES:
            # rank: skeletons shared, then words shared as written, then the birth year
            counts = counts * 16
            for exact in exact_lists:
                counts += _member(exact, found) * 2
            year = self._postings(prepared.year_key) if prepared.year_key else None
            if year is not None:
                counts += _member(year, found)
            # the MAX_CANDIDATES best; of equal counts the earlier entries (found is sorted)
            kth = np.partition(counts, len(counts) - MAX_CANDIDATES)[len(counts) - MAX_CANDIDATES]
            take = counts > kth
            take[np.flatnonzero(counts == kth)[: MAX_CANDIDATES - int(take.sum())]] = True
            found = found[take]
        return found

    def score(self, query, positions: np.ndarray, floor: float = 0.0) -> list[Candidate]:
        """The candidates scored, but those below ``floor`` on the name with no identifier
        on both sides (the country and the birth date only lower a score): most of a
        party's candidates, and ``score_entry``'s call was the most of their cost."""
        if isinstance(positions, np.ndarray):
            positions = positions.tolist()
        bests = matcher.best_names(
            query.tokens, [self.names[pos] for pos in positions], not query.person
        )
        out = []
        for pos, best in zip(positions, bests, strict=True):
            if best[0] < floor and not (query.idents and self.idents[pos]):
                continue
            score, reasons = matcher.score_entry(
                query.tokens,
                query.idents,
                query.country,
                query.birth_date,
                query.person,
                self.names[pos],
                self.idents[pos],
                self.countries[pos],
                self.births[pos],
                floor,
                best,
            )
            out.append(Candidate(pos, score, reasons))
        return out

    def version_key(self, pos: int) -> str:
        return f"{int(self.version_keys[pos]):016x}"

    def memory_bytes(self) -> int:
        """Rough size of the segment's own data (strings, arrays, key dict), for reports."""
        import sys

        size = sum(a.nbytes for a in (self.schemas, self.version_keys, self.postings, self.offsets))
        for column in (self.entry_ids, self.captions, self.names, self.idents, self.births):
            size += sys.getsizeof(column) + sum(sys.getsizeof(s) for s in column if s)
        size += sys.getsizeof(self.key_ids) + sum(sys.getsizeof(k) for k in self.key_ids)
        return size
