"""The selectivity engine: active profiles compiled into an index, evaluated per declaration.

Each profile's tree yields "anchors" — equality values or HS prefixes that any matching
declaration must carry (from the top-level AND, or from every branch of a top-level OR).
The index maps anchor values to profiles, so a declaration only evaluates the profiles whose
anchors it carries plus the few that have none. Every web process keeps its compiled engine
and compares its version with the one-row ``risk_engine_state`` counter before each
assessment, so profile changes apply without a restart.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.core.time import as_utc
from app.extensions import db
from app.risk import rules
from app.risk.models import CHANNEL_RANK, CHANNELS

log = logging.getLogger(__name__)

#: fields whose equality conditions can anchor a profile in the index
_EQ_KINDS = {"code", "country", "hs"}


@dataclass
class CompiledProfile:
    id: int
    code: str
    name: str
    channel: str
    rank: int
    version: int
    instructions: str
    is_sensitive: bool
    tree: dict
    fn: object
    valid_from: datetime | None
    valid_to: datetime | None
    needs: frozenset
    item_level: bool
    lists_values: dict = field(repr=False, default_factory=dict)

    def is_valid_at(self, when: datetime) -> bool:
        if self.valid_from is not None and when < self.valid_from:
            return False
        return not (self.valid_to is not None and when >= self.valid_to)

    def matched_conditions(self, decl: dict, item: dict) -> list[str]:
        """The readable conditions that held for this item, with the values seen."""
        out = []
        for leaf in rules.leaves(self.tree):
            fn = rules.compile_condition(leaf, self.lists_values)
            if fn(decl, item):
                fdef = rules.FIELDS[leaf["field"]]
                seen = (
                    decl.get(leaf["field"])
                    if fdef.level == "declaration"
                    else item.get(leaf["field"])
                )
                shown = f"{seen:g}" if isinstance(seen, float) else seen
                out.append(f"{rules.condition_text(leaf)} ({shown})")
        return out


def _anchors(node, lists_values) -> list[tuple[str, str, str]] | None:
    """(field, "eq"|"prefix", value) alternatives one of which every match carries."""
    if "join" in node:
        children = [_anchors(c, lists_values) for c in node["conditions"]]
        if node["join"] == "and":
            usable = [c for c in children if c]
            if not usable:
                return None
            # The most selective anchor: fewest alternatives, longest prefixes.
            return min(usable, key=lambda a: (len(a), -min(len(v) for _, _, v in a)))
        if any(not c for c in children):
            return None
        return [a for c in children for a in c]
    fdef = rules.FIELDS[node["field"]]
    op = node["op"]
    if fdef.kind not in _EQ_KINDS or fdef.derived:
        return None
    if op == "eq":
        return [(fdef.name, "prefix" if fdef.kind == "hs" else "eq", node["value"])]
    if op in ("in", "in_list"):
        values = rules._resolve_values(node, lists_values)
        if not values:
            return None
        mode = "prefix" if fdef.kind == "hs" else "eq"
        return [(fdef.name, mode, v) for v in sorted(values)]
    if op == "prefix":
        return [(fdef.name, "prefix", v) for v in node["value"]]
    return None


def _always(d, i):
    return True


def _anchor_and_residual(tree, lists_values):
    """The tree's anchors and, when they come from one leaf of the top-level AND, a closure
    for the remaining conditions: an item found through the anchor already satisfies it."""
    if "join" not in tree:
        return _anchor_and_residual({"join": "and", "conditions": [tree]}, lists_values)
    if tree["join"] != "and":
        return _anchors(tree, lists_values), None
    children = tree["conditions"]
    found = [(n, _anchors(c, lists_values)) for n, c in enumerate(children)]
    usable = [(n, a) for n, a in found if a]
    if not usable:
        return None, None
    n, anchors = min(usable, key=lambda na: (len(na[1]), -min(len(v) for _, _, v in na[1])))
    leaf = children[n]
    if "join" in leaf or (leaf["op"] == "eq" and rules.FIELDS[leaf["field"]].kind == "hs"):
        # A group, or an HS equality indexed by its prefix: the anchor does not decide it.
        return anchors, None
    rest = [c for k, c in enumerate(children) if k != n]
    if not rest:
        return anchors, _always
    return anchors, rules.compile_tree({"join": "and", "conditions": rest}, lists_values)


@dataclass
class Rates:
    #: channel -> target share (monitoring)
    target: dict
    #: channel -> minimum random share
    random: dict


class Engine:
    """An immutable compiled profile set plus the selectivity parameters."""

    def __init__(
        self,
        profiles: list[CompiledProfile],
        *,
        version: int,
        seed: str,
        rates: Rates,
        ml_threshold: float | None,
        ml_channel: str,
    ):
        self.version = version
        self.seed = seed
        self.rates = rates
        self.ml_threshold = ml_threshold
        self.ml_channel = ml_channel
        self.profiles = {p.id: p for p in profiles}
        self.eq_index: dict[str, dict[str, list[int]]] = {}
        self.prefix_index: dict[str, dict[str, list[int]]] = {}
        self.prefix_lengths: dict[str, tuple[int, ...]] = {}
        self.unanchored: list[int] = []
        #: profile id -> closure without the anchor condition (see _anchor_and_residual)
        self.residual: dict[int, object] = {}
        for p in profiles:
            anchors, residual = _anchor_and_residual(p.tree, p.lists_values)
            if residual is not None:
                self.residual[p.id] = residual
            if not anchors:
                self.unanchored.append(p.id)
                continue
            for fname, mode, value in set(anchors):
                index = self.eq_index if mode == "eq" else self.prefix_index
                index.setdefault(fname, {}).setdefault(value, []).append(p.id)
        for fname, table in self.prefix_index.items():
            self.prefix_lengths[fname] = tuple(sorted({len(v) for v in table}))
        self.decl_eq = [f for f in self.eq_index if rules.FIELDS[f].level == "declaration"]
        self.item_eq = [f for f in self.eq_index if rules.FIELDS[f].level == "item"]
        self.needs = frozenset().union(*(p.needs for p in profiles)) if profiles else frozenset()

    def candidates(self, decl: dict, items: list[dict]) -> dict[int, set | None]:
        """Profile id -> the item indexes that carry its anchor (None: every item)."""
        found: dict[int, set | None] = dict.fromkeys(self.unanchored)
        eq = self.eq_index
        for fname in self.decl_eq:
            ids = eq[fname].get(decl.get(fname))
            if ids:
                for pid in ids:
                    found[pid] = None
        prefix_index, lengths_by_field = self.prefix_index, self.prefix_lengths
        for n, item in enumerate(items):
            for fname in self.item_eq:
                ids = eq[fname].get(item.get(fname))
                if ids:
                    for pid in ids:
                        _add(found, pid, n)
            for fname, lengths in lengths_by_field.items():
                on_item = rules.FIELDS[fname].level == "item"
                value = item.get(fname) if on_item else decl.get(fname)
                if not value:
                    continue
                table = prefix_index[fname]
                for size in lengths:
                    if size > len(value):
                        break
                    ids = table.get(value[:size])
                    if ids:
                        for pid in ids:
                            if on_item:
                                _add(found, pid, n)
                            else:
                                found[pid] = None
        return found

    def evaluate(self, decl: dict, items: list[dict], when: datetime):
        """Profiles that fire: list of (CompiledProfile, [matching item indexes])."""
        hits = []
        all_items = range(len(items))
        residual = self.residual
        for pid, only in self.candidates(decl, items).items():
            p = self.profiles[pid]
            if (p.valid_from is not None or p.valid_to is not None) and not p.is_valid_at(when):
                continue
            fn = p.fn
            if p.item_level:
                if only is None:
                    matched = [n for n in all_items if fn(decl, items[n])]
                else:
                    fn = residual.get(pid, fn)
                    matched = [n for n in sorted(only) if fn(decl, items[n])]
            else:
                matched = list(all_items) if fn(decl, {}) else []
            if matched:
                hits.append((p, matched))
        hits.sort(key=lambda h: (-h[0].rank, h[0].code))
        return hits

    def evaluate_all(self, decl: dict, items: list[dict], when: datetime):
        """Baseline without the index: every profile evaluated (tests compare both)."""
        hits = []
        for p in self.profiles.values():
            if not p.is_valid_at(when):
                continue
            matched = [n for n, item in enumerate(items) if p.fn(decl, item)]
            if matched:
                hits.append((p, matched))
        hits.sort(key=lambda h: (-h[0].rank, h[0].code))
        return hits

    def draw(self, number: str) -> tuple[str, float]:
        """The declaration's reproducible uniform draw in [0, 1) and the seed string."""
        seed = f"{self.seed}:{number}"
        digest = hashlib.sha256(seed.encode()).digest()
        return seed, int.from_bytes(digest[:8], "big") / 2**64

    def random_channel(self, u: float) -> str | None:
        """Highest lanes first: the draw falls in red's share, then orange's, and so on."""
        edge = 0.0
        for channel in reversed(CHANNELS):
            rate = self.rates.random.get(channel, 0.0)
            if rate <= 0:
                continue
            edge += rate
            if u < edge:
                return channel
        return None

    def decide(self, hits, ml_score: float | None, u: float) -> dict:
        """Channel precedence over profiles, the ML threshold and the random draw."""
        channel = "green"
        reasons = []
        for p, _ in hits:
            if CHANNEL_RANK[p.channel] > CHANNEL_RANK[channel]:
                channel = p.channel
        if hits:
            reasons.append("profile")
        ml_hit = (
            ml_score is not None and self.ml_threshold is not None and ml_score >= self.ml_threshold
        )
        if ml_hit:
            reasons.append("ml_score")
            if CHANNEL_RANK[self.ml_channel] > CHANNEL_RANK[channel]:
                channel = self.ml_channel
        rnd = self.random_channel(u)
        if rnd is not None:
            reasons.append("random")
            if CHANNEL_RANK[rnd] > CHANNEL_RANK[channel]:
                channel = rnd
        return {"channel": channel, "reasons": reasons, "ml_hit": ml_hit, "random_channel": rnd}


def _add(found: dict, pid: int, n: int) -> None:
    if pid in found:
        if found[pid] is not None:
            found[pid].add(n)
    else:
        found[pid] = {n}


def compile_profiles(profile_rows, lists_values: dict) -> list[CompiledProfile]:
    compiled = []
    for row in profile_rows:
        tree = row.conditions
        needs = frozenset(f for f in rules.fields_used(tree) if rules.FIELDS[f].derived)
        item_level = any(rules.FIELDS[f].level == "item" for f in rules.fields_used(tree))
        compiled.append(
            CompiledProfile(
                id=row.id,
                code=row.code,
                name=row.name,
                channel=row.channel,
                rank=CHANNEL_RANK[row.channel],
                version=row.version,
                instructions=row.instructions or "",
                is_sensitive=bool(row.is_sensitive),
                tree=tree,
                fn=rules.compile_tree(tree, lists_values),
                valid_from=as_utc(row.valid_from_dt),
                valid_to=as_utc(row.valid_to_dt),
                needs=needs,
                item_level=item_level,
                lists_values=lists_values,
            )
        )
    return compiled


# --- per-process cache ------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict = {"engine": None, "background": False, "building": None}


def current_version() -> int:
    from app.risk.settings import engine_state

    return engine_state().version


def build_engine() -> Engine:
    from app.risk.models import NamedList, RiskProfile
    from app.risk.settings import engine_state, selectivity_rates

    state = engine_state()
    lists_values = {nl.name: list(nl.values or []) for nl in db.session.scalars(select(NamedList))}
    rows = db.session.scalars(select(RiskProfile).where(RiskProfile.status == "active")).all()
    rates = selectivity_rates()
    return Engine(
        compile_profiles(rows, lists_values),
        version=state.version,
        seed=state.random_seed,
        rates=Rates(
            target={c: r["target_rate"] for c, r in rates.items()},
            random={c: r["min_random_rate"] for c, r in rates.items()},
        ),
        ml_threshold=state.ml_threshold,
        ml_channel=state.ml_channel,
    )


def _state_key() -> tuple[int, str]:
    """The version *and* the state row's random seed: a database that was emptied or replaced
    (a restore, a fresh test database) starts counting again at 1, and its seed tells it apart
    from the one the cached engine was compiled from."""
    from app.risk.models import EngineState
    from app.risk.settings import engine_state

    # Two columns through Core, not the ORM object: this runs for every declaration.
    row = db.session.execute(
        select(EngineState.version, EngineState.random_seed).where(EngineState.id == 1)
    ).first()
    if row is None:
        state = engine_state()  # created on first use
        return state.version, state.random_seed
    return row.version, row.random_seed


def get_engine() -> Engine:
    """The compiled engine, rebuilt when another process (or this one) bumped the version.

    In a web worker (``rebuild_in_background``) a profile change does not stall the
    declaration that notices it: the engine is rebuilt in a thread beside the one in use,
    which assesses (and records its version in each assessment) until the new one is
    swapped in, a compile later. Elsewhere (tests, jobs, CLI) the caller waits for it."""
    key = _state_key()
    engine = _cache["engine"]
    if engine is not None and (engine.version, engine.seed) == key:
        return engine
    if _cache["background"] and engine is not None and engine.seed == key[1]:
        _start_rebuild(key)
        return engine
    with _lock:
        engine = _cache["engine"]
        if engine is None or (engine.version, engine.seed) != key:
            engine = build_engine()
            _cache["engine"] = engine
    return engine


def rebuild_in_background(on: bool) -> None:
    """Serve the engine in use while a newer one compiles (web workers; see get_engine)."""
    _cache["background"] = on


def _start_rebuild(key) -> None:
    from flask import current_app

    with _lock:
        if _cache["building"] is not None and _cache["building"] >= key[0]:
            return
        _cache["building"] = key[0]
    app = current_app._get_current_object()
    threading.Thread(target=_rebuild, args=(app,), name="risk-engine-rebuild", daemon=True).start()


def _rebuild(app) -> None:
    try:
        with app.app_context():
            try:
                engine = build_engine()
            finally:
                db.session.remove()
        with _lock:
            current = _cache["engine"]
            if current is None or engine.version > current.version:
                _cache["engine"] = engine
    except Exception:
        log.exception("rebuilding the risk engine failed; the next declaration retries")
    finally:
        with _lock:
            _cache["building"] = None


def reset_cache() -> None:
    _cache["engine"] = None
    _cache["background"] = False
