"""Screening parties against the active lists: the interface other domains call.

``screen(PartyQuery(...))`` returns the list entries that score at least their list's
threshold, best first, each with its reasons. The index is built in memory from the database
on first use and kept warm; every CHECK_SECONDS (``TOLLGATE_SCREENING_CHECK_SECONDS``, default
2) one small query compares the lists' current versions with the index's, and only a list
whose version changed is re-read (a threshold or activation change needs no re-read). In a
web worker the check is its watcher's (``app.screening.watcher``), not a declaration's. A load
in this process is seen at once (``invalidate()`` re-reads in the caller).
"""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Text, cast, select

from app.config import env_setting
from app.extensions import db
from app.screening import matcher, normalize, watcher
from app.screening.index import Segment
from app.screening.models import ScreeningEntry, ScreeningList, ScreeningListVersion

log = logging.getLogger(__name__)

CACHE_SIZE = 50_000
CHECK_SECONDS = float(env_setting("SCREENING_CHECK_SECONDS"))


@dataclass(frozen=True)
class PartyQuery:
    name: str
    schema: str = "LegalEntity"  # "Person" | "Company" | "Organization" | "LegalEntity" | "Vessel"
    country: str | None = None  # ISO alpha-2
    identifiers: tuple[str, ...] = ()  # IMO, LEI, tax numbers, registration numbers (raw)
    birth_date: str | None = None  # ISO date, for persons


class Match(NamedTuple):
    """One list entry a party matched. A tuple of plain values: the index's result cache
    keeps tens of thousands, and the cyclic collector stops tracking such tuples (as frozen
    dataclasses they were walked by every full collection: up to 63 ms one, at 20,000
    declarations of new parties)."""

    list_id: int
    list_name: str
    list_version: str
    sensitivity: str
    entry_id: str  # the list entry's own id (e.g. OpenSanctions id)
    entry_caption: str
    score: float  # 0..1
    threshold: float  # the list's threshold
    reasons: tuple[str, ...]  # ("name tokens 3/3 ...", "IMO 9876543 equal", "country RU equal")
    entry_version_key: str  # changes when the entry's data changes


def astuple_of(query: PartyQuery) -> tuple:
    return (query.name, query.schema, query.country, tuple(query.identifiers), query.birth_date)


@dataclass(frozen=True)
class ListMeta:
    list_id: int
    name: str
    version: str
    sensitivity: str
    threshold: float


@dataclass(frozen=True)
class _Prepared:
    """A PartyQuery in the index's terms."""

    tokens: tuple[str, ...]
    idents: tuple[str, ...]
    country: str | None
    birth_date: str | None
    schema_ok: tuple[int, ...]
    #: blocking keys of the identifiers ("#...") and the birth year ("@1952")
    ident_keys: tuple[str, ...]
    year_key: str | None
    person: bool

    # The name's keys are read where the compiled search is not (Segment.candidates_py, a
    # token that is not plain): computed on first use, not for every party.
    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The name's skeletons; initials ("M/V", "V.") are no key: lists write names out."""
        return tuple(sorted({normalize.skeleton(t) for t in self.tokens if len(t) > 1}))

    @cached_property
    def exact_keys(self) -> tuple[str, ...]:
        """The name's words as written ("=petrov")."""
        return tuple(sorted({"=" + t for t in self.tokens if len(t) > 1}))

    @property
    def named(self) -> bool:
        """Whether the name has a word (not initials only) to look up."""
        return any(len(t) > 1 for t in self.tokens)


def prepare(query: PartyQuery) -> _Prepared:
    schema = query.schema if query.schema in matcher.COMPATIBLE else "LegalEntity"
    tokens = normalize.name_tokens(query.name or "", schema)
    idents = tuple(i for i in map(normalize.identifier, query.identifiers) if i)
    birth = (query.birth_date or "").strip()[:10] or None
    return _Prepared(
        tokens, idents, normalize.country(query.country), birth, matcher.COMPATIBLE[schema],
        tuple(sorted("#" + i for i in idents)),
        "@" + birth[:4] if birth else None,
        schema == "Person",
    )  # fmt: skip


class ScreeningIndex:
    """Every active list's segment and metadata; answers queries (thread-safe reads)."""

    def __init__(self, segments: dict[int, Segment], meta: dict[int, ListMeta]):
        self.segments = segments
        self.meta = meta
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments.values())

    def screen(self, query: PartyQuery, lists=None, *, cache: bool = True) -> list[Match]:
        """Matches of ``query`` on this index's lists; ``cache=False``: computed afresh."""
        wanted = None if lists is None else frozenset(lists)
        if not cache:
            return self._screen(query, wanted)
        # tuples of plain values, key and result, untracked by the cyclic collector (Match)
        cache_key = (*astuple_of(query), wanted)
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return list(hit)
        result = self._screen(query, wanted)
        with self._lock:
            self._cache[cache_key] = tuple(result)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _screen(self, query: PartyQuery, wanted) -> list[Match]:
        prepared = prepare(query)
        if not prepared.named and not prepared.ident_keys:
            return []
        out = []
        for list_id, segment in self.segments.items():
            meta = self.meta[list_id]
            if wanted is not None and list_id not in wanted and meta.name not in wanted:
                continue
            positions = segment.candidates(prepared)
            for cand in segment.score(prepared, positions, meta.threshold):
                if cand.score >= meta.threshold:
                    out.append(self._match(meta, segment, cand))
        out.sort(key=lambda m: (-m.score, m.list_name, m.entry_id))
        return out

    @staticmethod
    def _match(meta: ListMeta, segment: Segment, cand) -> Match:
        return Match(
            list_id=meta.list_id,
            list_name=meta.name,
            list_version=meta.version,
            sensitivity=meta.sensitivity,
            entry_id=segment.entry_ids[cand.position],
            entry_caption=segment.captions[cand.position],
            score=round(cand.score, 4),
            threshold=meta.threshold,
            reasons=cand.reasons,
            entry_version_key=segment.version_key(cand.position),
        )


_state = {"index": None, "checked": 0.0}
_build_lock = threading.Lock()


def _list_states() -> dict[int, tuple]:
    rows = db.session.execute(
        select(
            ScreeningList.id,
            ScreeningList.name,
            ScreeningList.sensitivity,
            ScreeningList.threshold,
            ScreeningListVersion.id,
            ScreeningListVersion.version_date,
            ScreeningListVersion.file_sha256,
            ScreeningListVersion.loaded_dt,
        )
        .join(ScreeningListVersion, ScreeningListVersion.id == ScreeningList.current_version_id)
        .where(ScreeningList.is_active.is_(True))
    ).all()
    return {
        r[0]: (ListMeta(r[0], r[1], r[5].isoformat(), r[2], float(r[3])), (r[4], r[6], r[7]))
        for r in rows
    }


def load_segment(list_id: int, signature: tuple) -> Segment:
    rows = db.session.execute(
        select(
            ScreeningEntry.entry_id,
            ScreeningEntry.caption,
            ScreeningEntry.schema,
            ScreeningEntry.match_names,
            ScreeningEntry.match_ids,
            cast(ScreeningEntry.countries, Text),
            cast(ScreeningEntry.birth_dates, Text),
            ScreeningEntry.version_key,
        )
        # the current version's rows (signature[0]): a version being loaded is not read
        .where(ScreeningEntry.list_id == list_id, ScreeningEntry.version_id == signature[0])
        .order_by(ScreeningEntry.id)
        .execution_options(yield_per=10_000)
    )
    return Segment(list_id, signature, rows)


def active_index() -> ScreeningIndex:
    """The warm index of the active lists, re-read where a list's version changed.

    Only the first build (a worker's warm-up, or a process that never had one) makes its
    caller wait. A later change is built in a background thread while requests keep
    screening against the index they have, as yente serves its old index until the new one
    is ready: re-reading a million-entry list costs about 35 s of CPU, and no declaration
    may wait for it."""
    current = _state["index"]
    # tests empty the database between cases: every call checks there, and builds in place
    period = 0.0 if current_app.testing else CHECK_SECONDS
    if current is not None and (
        time.monotonic() - _state["checked"] < period or (period and watcher.covers())
    ):
        return current  # a worker's watcher checks off this path (app.screening.watcher)
    if current is None or current_app.testing:
        with _build_lock:
            return _refresh()
    return check_lists()


def check_lists() -> ScreeningIndex | None:
    """Compare the lists' versions with the index's (one small query) and start a re-read in
    the background where one changed; the index to serve meanwhile. The watcher's check, and
    a declaration's where no watcher covers it. (A thread is started only for a re-read: a
    thread's start and its query competing for the GIL made a declaration pay several ms.)"""
    current = _state["index"]
    if current is None:
        return None
    if not _changed(current, _list_states()):
        _state["checked"] = time.monotonic()
        return current
    if _build_lock.acquire(blocking=False):  # at most one rebuild at a time; else serve current
        _state["checked"] = time.monotonic()
        app = current_app._get_current_object()
        threading.Thread(target=_refresh_in_background, args=(app,), daemon=True).start()
    return current


def _refresh() -> ScreeningIndex:
    """Compare the lists' versions with the index's and re-read what changed (under the lock)."""
    states = _list_states()
    current = _state["index"]
    old_segments = current.segments if current is not None else {}
    if current is None or _changed(current, states):
        segments = {}
        for list_id, (_meta, signature) in states.items():
            old = old_segments.get(list_id)
            reuse = old is not None and old.signature == signature
            segments[list_id] = old if reuse else load_segment(list_id, signature)
        current = ScreeningIndex(segments, {lid: m for lid, (m, _s) in states.items()})
        _state["index"] = current
    _state["checked"] = time.monotonic()
    return current


def _refresh_in_background(app) -> None:
    """The thread body: holds ``_build_lock`` (taken by the caller) until the swap."""
    started = time.perf_counter()
    try:
        with app.app_context():
            try:
                _refresh()
            finally:
                db.session.remove()
    except Exception:
        # the current index keeps serving; the next check tries again
        log.exception("rebuilding the screening index failed; the previous index is kept")
    finally:
        _build_lock.release()
    log.info("screening index refreshed in %.1f s", time.perf_counter() - started)


def warm_up(app) -> None:
    """Build the active lists' index before a web worker takes its first request
    (``app.core.registry.add_warm_up``): the first declaration does not pay for it. Then
    start the worker's watcher (``app.screening.watcher``)."""
    with app.app_context():
        try:
            active_index()
        except Exception:
            log.exception("warming the screening index failed; the first screening will build it")
        finally:
            db.session.remove()
    watcher.start(app)  # the versions' and judgements' checks, off the declarations' path


def _changed(index: ScreeningIndex, states: dict) -> bool:
    if set(states) != set(index.segments):
        return True
    return any(
        index.segments[lid].signature != sig or index.meta[lid] != meta
        for lid, (meta, sig) in states.items()
    )


def invalidate() -> None:
    """After a load or a list edit in this process: the index follows before this returns,
    so the administrator's request or command waits for the re-read, not a declaration, and
    the next declaration here is screened against the new version. Other processes see it
    within CHECK_SECONDS plus their background re-read. A process without an index yet (a
    command) builds nothing: its next ``active_index()`` reads what is there."""
    _state["checked"] = 0.0
    if _state["index"] is not None:
        with _build_lock:
            _refresh()


def screen(query: PartyQuery, *, lists=None) -> list[Match]:
    """Matches of a party on the active lists (ids or names in ``lists``), best first."""
    return active_index().screen(query, lists)
