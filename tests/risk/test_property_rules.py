"""Property tests of the profile rule language (issue #9, hostile input).

* A valid tree with one corruption (unknown field or operator, a value of the wrong type or
  shape, wrong arity for ``between``, too deep, empty or oversized groups, a node that is not
  an object, extra keys, huge lists) is rejected with exactly one ValidationError field: the
  JSON path of the corrupted node (``conditions.conditions[2].value``).
* Nothing is ever executed: strings holding Python are data, matched literally, and no module
  of the application calls eval/exec.
* Valid random trees compile, and the compiled closures, the indexed engine and the
  simulation's vectorised masks all agree with a plain reference evaluation written here.
"""

import ast
import builtins
import contextlib
import copy
import os
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.risk import profiles, rules
from app.risk.engine import Engine, Rates, compile_profiles
from app.risk.models import RiskProfile, RiskProfileVersion
from app.risk.rules import FIELDS, MAX_CONDITIONS, MAX_DEPTH, MAX_VALUES, OPERATORS
from app.security.access import Actor

CODE = "__import__('os').system('x')"
HOSTILE_TEXT = [
    CODE,
    "eval('1+1')",
    "' OR 1=1 --",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "lambda: 0",
    "=cmd|' /C calc'!A0",
]
CODES = ["A", "B", "30", "40", "BCP-N", "IMP001", "DCL001", *HOSTILE_TEXT]
CODE_PREFIXES = ["I", "IM", "D", "3", "BCP", "__", "'", "{{", *HOSTILE_TEXT[:2]]
COUNTRIES = ["US", "CN", "DE", "XK", "MX"]
HS = ["08", "0808", "080810", "0808100000", "0805100000", "85", "8517", "8517620000", "2402"]
NUMBERS = [0.0, 1.0, 5.0, 8.0, 10.0, 100.0, 500.0, 1000.0, -60.0]
LISTS = {
    "Fruit": ("hs_code", ["0805", "0808"]),
    "Watched": ("trader", ["IMP001", CODE]),
    "Americas": ("country", ["MX", "US"]),
    "Posts": ("office", ["30", "BCP-N"]),
}
LIST_KINDS = {name: kind for name, (kind, _) in LISTS.items()}
LIST_VALUES = {name: values for name, (_, values) in LISTS.items()}
GROUP_DEPTH = 3  # valid trees nest at most this deep (the limit is MAX_DEPTH)

SETTINGS = settings(max_examples=100, deadline=None, database=None)


def _validate(tree):
    return rules.validate(tree, lists=LIST_KINDS)


# --- valid trees ----------------------------------------------------------------------------


def _ops_for(fdef):
    return [
        op
        for op, (_label, kinds, shape) in OPERATORS.items()
        if fdef.kind in kinds and (shape != "list_name" or fdef.list_kind)
    ]


numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([" 5 ", "10", "1e2", "-0.5"]),
)


def _text_pool(kind, op):
    if kind == "hs":
        return st.sampled_from(HS) | st.sampled_from(["0808.10", "85 17", "0808 10 00 00"])
    if kind == "country":
        return st.sampled_from(COUNTRIES) | st.sampled_from(["us", " cn ", "De"])
    if op.endswith("prefix"):
        return st.sampled_from(CODE_PREFIXES)
    return st.sampled_from(CODES) | st.integers(0, 99)


@st.composite
def valid_value(draw, fdef, op):
    shape = OPERATORS[op][2]
    if shape == "none":
        return draw(st.none() | st.just("ignored"))
    if shape == "number" or (shape == "scalar" and fdef.kind == "number"):
        return draw(numbers)
    if shape == "range":
        low, high = sorted(draw(st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2)))
        return [low, high]
    if shape == "scalar":
        return draw(_text_pool(fdef.kind, op))
    if shape == "list":
        values = draw(st.lists(_text_pool(fdef.kind, op), min_size=1, max_size=4))
        if draw(st.booleans()) and all(isinstance(v, str) for v in values):
            return draw(st.sampled_from([", ", ";", ","])).join(values)  # the form's text
        return values
    assert shape == "list_name"
    return draw(st.sampled_from([n for n, k in LIST_KINDS.items() if k == fdef.list_kind]))


@st.composite
def valid_leaf(draw):
    fdef = FIELDS[draw(st.sampled_from(sorted(FIELDS)))]
    op = draw(st.sampled_from(_ops_for(fdef)))
    return {"field": fdef.name, "op": op, "value": draw(valid_value(fdef, op))}


@st.composite
def valid_tree(draw, depth=0):
    if depth >= GROUP_DEPTH or draw(st.integers(0, 2)) == 0:
        return draw(valid_leaf())
    size = draw(st.integers(1, 4))
    return {
        "join": draw(st.sampled_from(["and", "or"])),
        "conditions": [draw(valid_tree(depth + 1)) for _ in range(size)],
    }


# --- one corruption with the path it must be reported at ------------------------------------


def _nodes(tree, path="conditions", depth=0, where=()):
    """(location, JSON path, depth, node) of every node, the root first."""
    yield where, path, depth, tree
    if "join" in tree:
        for i, child in enumerate(tree["conditions"]):
            yield from _nodes(child, f"{path}.conditions[{i}]", depth + 1, (*where, i))


def _replace(tree, where, new):
    if not where:
        return new
    out = copy.deepcopy(tree)
    parent = out
    for i in where[:-1]:
        parent = parent["conditions"][i]
    parent["conditions"][where[-1]] = new
    return out


NOT_A_STRING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOT_A_NODE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.just(CODE),
    st.text(max_size=10),
    st.lists(st.just({"field": "office", "op": "eq", "value": "30"}), max_size=2),
)
BAD_NUMBERS = st.one_of(
    st.sampled_from(
        [None, True, False, "", " ", "abc", CODE, "nan", "NaN", "inf", "-inf", "1e999", "1_000"]
    ),
    st.sampled_from([10**400, -(10**5000), [], {}, [1], {"a": 1}, "9" * 61]),
    st.text(alphabet="xyz,;()'", min_size=1, max_size=10),
)
BAD_TEXT = st.sampled_from(
    [None, True, 1.5, [], {}, "", "   ", "x" * 41, "a\x00b", "a\nb", "\x1b[0m", 10**50]
)
BAD_COUNTRY = st.sampled_from(["USA", "U1", "ÄÖ", "12", "U", "ΑΒ", "us!", 12])
BAD_HS = st.sampled_from(["08a8", "²²²²", "٣٣٣٣", "12345678901", "0x08", "-0808", CODE])
EXTRA_KEY = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.[]", min_size=1, max_size=12)


def _bad_scalar(fdef):
    if fdef.kind == "number":
        return BAD_NUMBERS
    extra = {"country": BAD_COUNTRY, "hs": BAD_HS}.get(fdef.kind, st.nothing())
    return BAD_TEXT | extra


def _bad_element(fdef, op):
    kind = "hs" if fdef.kind == "hs" else ("code" if op.endswith("prefix") else fdef.kind)
    extra = {"country": BAD_COUNTRY, "hs": BAD_HS}.get(kind, st.nothing())
    return BAD_TEXT | extra


@st.composite
def corrupt_leaf(draw, leaf):
    """(corrupted leaf, path suffix of the error)."""
    fdef = FIELDS[leaf["field"]]
    shape = OPERATORS[leaf["op"]][2]
    kinds = ["field", "field_type", "op", "op_kind", "extra"]
    if shape != "none":
        kinds.append("value")
    kind = draw(st.sampled_from(kinds))
    bad = dict(leaf)
    if kind == "field":
        name = draw(
            st.text(max_size=20).filter(lambda s: s not in FIELDS)
            | st.sampled_from(["__class__", CODE, "hs_code ", "HS_CODE", "items[0].hs_code"])
        )
        bad["field"] = name
        return bad, ".field"
    if kind == "field_type":
        if draw(st.booleans()):
            del bad["field"]
        else:
            bad["field"] = draw(NOT_A_STRING)
        return bad, ".field"
    if kind == "op":
        if draw(st.booleans()):
            bad["op"] = draw(
                st.text(max_size=12).filter(lambda s: s not in OPERATORS)
                | st.sampled_from(["EQ", "==", "__eq__", CODE, "eq "])
                | NOT_A_STRING
            )
        else:
            del bad["op"]
        return bad, ".op"
    if kind == "op_kind":
        wrong = [op for op, (_, kinds, _) in OPERATORS.items() if fdef.kind not in kinds]
        bad["op"] = draw(st.sampled_from(wrong))
        return bad, ".op"
    if kind == "extra":
        key = draw(
            EXTRA_KEY.filter(lambda k: k not in (*rules._CONDITION_KEYS, "join", "conditions"))
        )
        bad[key] = draw(st.integers() | st.just(CODE))
        return bad, f".{key}"
    # a bad value for the operator's shape
    if shape in ("number",) or (shape == "scalar" and fdef.kind == "number"):
        bad["value"] = draw(BAD_NUMBERS)
        return bad, ".value"
    if shape == "scalar":
        bad["value"] = draw(_bad_scalar(fdef))
        return bad, ".value"
    if shape == "range":
        how = draw(st.sampled_from(["arity", "type", "element", "order"]))
        if how == "arity":
            size = draw(st.sampled_from([0, 1, 3, 4, 10_000]))
            bad["value"] = [1.0] * size
            return bad, ".value"
        if how == "type":
            bad["value"] = draw(st.sampled_from([None, 5, "1,2", "1-2", {"low": 1, "high": 2}]))
            return bad, ".value"
        if how == "element":
            index = draw(st.integers(0, 1))
            value = [1.0, 2.0]
            value[index] = draw(BAD_NUMBERS)
            bad["value"] = value
            return bad, f".value[{index}]"
        low = draw(st.floats(-1e6, 1e6))
        bad["value"] = [low, low - draw(st.floats(0.5, 1e6))]
        return bad, ".value"
    if shape == "list":
        how = draw(st.sampled_from(["type", "empty", "huge", "element"]))
        if how == "type":
            bad["value"] = draw(st.sampled_from([None, True, 1.5, {}, {"a": 1}]))
            return bad, ".value"
        if how == "empty":
            bad["value"] = draw(st.sampled_from([[], "", " , ; ", ";;"]))
            return bad, ".value"
        if how == "huge":
            good = draw(_text_pool(fdef.kind, leaf["op"]))
            bad["value"] = [good] * (MAX_VALUES + draw(st.integers(1, 3)))
            return bad, ".value"
        values = draw(st.lists(_text_pool(fdef.kind, leaf["op"]), min_size=1, max_size=4))
        index = draw(st.integers(0, len(values)))
        values.insert(index, draw(_bad_element(fdef, leaf["op"])))
        bad["value"] = values
        return bad, f".value[{index}]"
    assert shape == "list_name"
    other_kind = [n for n, k in LIST_KINDS.items() if k != fdef.list_kind]
    bad["value"] = draw(
        st.sampled_from(other_kind)
        | st.sampled_from(["Nope", "fruit", CODE, ""])
        | NOT_A_STRING.filter(lambda v: not isinstance(v, str))
    )
    return bad, ".value"


@st.composite
def corrupt_group(draw, group):
    kind = draw(st.sampled_from(["join", "conditions", "too_many", "extra"]))
    bad = dict(group)
    if kind == "join":
        if draw(st.booleans()):
            del bad["join"]
        else:
            bad["join"] = draw(
                st.sampled_from(["AND", "xor", "and ", "", "not", CODE]) | NOT_A_STRING
            )
        return bad, ".join"
    if kind == "conditions":
        value = draw(st.sampled_from(["missing", [], {}, "abc", None, 3, {"join": "and"}]))
        if value == "missing":
            del bad["conditions"]
        else:
            bad["conditions"] = value
        return bad, ".conditions"
    if kind == "too_many":
        leaf = draw(valid_leaf())
        bad["conditions"] = [leaf] * (MAX_CONDITIONS + draw(st.integers(1, 500)))
        return bad, ".conditions"
    key = draw(EXTRA_KEY.filter(lambda k: k not in ("join", "conditions")))
    bad[key] = draw(st.just("x") | st.just(CODE) | st.integers())
    return bad, f".{key}"


@st.composite
def corrupted_tree(draw):
    """(a valid tree with one corruption, the path the error must name)."""
    tree = draw(valid_tree())
    where, path, depth, node = draw(st.sampled_from(list(_nodes(tree))))
    how = draw(st.sampled_from(["node", "not_a_node", "too_deep"]))
    if how == "not_a_node":
        return _replace(tree, where, draw(NOT_A_NODE)), path
    if how == "too_deep":
        # Wrap the node in groups until one sits at depth MAX_DEPTH: that group is refused.
        wrappers = MAX_DEPTH - depth + draw(st.integers(1, 30))
        deep = node
        for _ in range(wrappers):
            deep = {"join": draw(st.sampled_from(["and", "or"])), "conditions": [deep]}
        return _replace(tree, where, deep), path + ".conditions[0]" * (MAX_DEPTH - depth)
    if "join" in node:
        bad, suffix = draw(corrupt_group(node))
    else:
        bad, suffix = draw(corrupt_leaf(node))
    return _replace(tree, where, bad), path + suffix


# --- no code runs -----------------------------------------------------------------------------


@contextlib.contextmanager
def nothing_executes(monkeypatch):
    """Fail on eval/exec/os.system while the rule code runs (records, then raises)."""
    calls = []

    def refuse(name):
        def fn(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} called with {args!r}")

        return fn

    with monkeypatch.context() as m:
        m.setattr(builtins, "eval", refuse("eval"))
        m.setattr(builtins, "exec", refuse("exec"))
        m.setattr(os, "system", refuse("os.system"))
        yield calls
    assert not calls


@SETTINGS
@given(case=corrupted_tree())
def test_a_corrupted_tree_is_rejected_at_the_precise_path(case):
    tree, path = case
    with pytest.raises(ValidationError) as exc:
        _validate(tree)
    assert set(exc.value.fields) == {path}, (exc.value.fields, path)
    assert all(isinstance(m, str) and len(m) < 300 for m in exc.value.fields.values())


@SETTINGS
@given(tree=valid_tree())
def test_a_valid_tree_validates_compiles_and_reads_back(tree):
    normal = _validate(tree)
    assert _validate(normal) == normal  # normalising is idempotent
    assert rules.describe(normal)
    fn = rules.compile_tree(normal, LIST_VALUES)
    assert fn({}, {}) in (True, False)  # nothing known: no crash, a boolean


def test_too_many_conditions_in_total_is_reported_once_at_the_first_excess():
    leaf = {"field": "office", "op": "eq", "value": "30"}
    tree = {
        "join": "and",
        "conditions": [{"join": "or", "conditions": [leaf] * 40} for _ in range(3)],
    }
    with pytest.raises(ValidationError) as exc:
        _validate(tree)
    assert exc.value.fields == {
        "conditions.conditions[1].conditions[20]": "a profile has at most 60 conditions"
    }


@pytest.mark.parametrize("tree", [None, [], "office == '30'", 0, {}, {"join": "and"}])
def test_root_that_is_no_tree(tree):
    with pytest.raises(ValidationError) as exc:
        _validate(tree)
    assert set(exc.value.fields) <= {"conditions", "conditions.conditions", "conditions.field"}


# --- reference evaluation -------------------------------------------------------------------


def reference_leaf(cond, decl, item) -> bool:
    """What a condition means, written plainly: a missing value never matches."""
    fdef = FIELDS[cond["field"]]
    seen = (decl if fdef.level == "declaration" else item).get(cond["field"])
    if seen is None:
        return False
    op, value = cond["op"], cond["value"]
    if op in ("in_list", "not_in_list"):
        op, value = op.replace("_list", ""), LIST_VALUES.get(value, [])
    if op in ("in", "not_in"):
        # HS lists hold prefixes; other lists whole values.
        hit = any(seen.startswith(v) for v in value) if fdef.kind == "hs" else seen in value
        return hit if op == "in" else not hit
    if op == "prefix":
        return any(seen.startswith(v) for v in value)
    if op == "not_prefix":
        return not any(seen.startswith(v) for v in value)
    if op in ("on_any", "on_none"):  # a set of names (the screening lists a party matched)
        return bool(set(value) & seen) == (op == "on_any")
    if op == "between":
        return value[0] <= seen <= value[1]
    if op == "is_true":
        return seen is True
    if op == "is_false":
        return seen is False
    return {
        "eq": seen == value,
        "ne": seen != value,
        "gt": seen > value,
        "gte": seen >= value,
        "lt": seen < value,
        "lte": seen <= value,
    }[op]


def reference(tree, decl, item) -> bool:
    if "join" in tree:
        results = [reference(c, decl, item) for c in tree["conditions"]]
        return all(results) if tree["join"] == "and" else any(results)
    return reference_leaf(tree, decl, item)


def _field_value(fdef):
    missing = st.none()
    if fdef.kind == "number":
        return missing | st.sampled_from(NUMBERS) | st.floats(-1e6, 1e6, allow_nan=False)
    if fdef.kind == "bool":
        return missing | st.booleans()
    if fdef.kind == "hs":
        return missing | st.sampled_from(HS) | st.text(alphabet="0123456789", max_size=10)
    if fdef.kind == "country":
        return missing | st.sampled_from([*COUNTRIES, "us", "ZZ"])
    if fdef.kind == "names":
        return missing | st.frozensets(st.sampled_from([*CODES, "0", "UN list"]), max_size=3)
    pool = [*CODES, "I", "IMP002", "BCP", "__", "{{x}}", "'", "0"]
    return missing | st.sampled_from(pool) | st.text(max_size=6)


@st.composite
def record(draw, level):
    out = {}
    for name, fdef in FIELDS.items():
        if fdef.level == level and draw(st.integers(0, 5)):  # sometimes absent altogether
            out[name] = draw(_field_value(fdef))
    return out


declarations = st.tuples(record("declaration"), st.lists(record("item"), max_size=4))


def _frame(decl, items, categorical):
    rows = [{**{n: decl.get(n) for n in FIELDS}, **item} for item in items]
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    for name, fdef in FIELDS.items():
        if fdef.kind == "number":
            frame[name] = frame[name].to_numpy(dtype=float, na_value=np.nan)
        elif fdef.kind == "bool":
            frame[name] = frame[name].astype(object)
        elif categorical:
            frame[name] = frame[name].astype("category")
        else:
            frame[name] = frame[name].astype(object)
    return frame


def _engine(normal_trees, channels):
    rows = [
        SimpleNamespace(
            id=n + 1,
            code=f"RP-{n + 1:04d}",
            name=f"profile {n}",
            channel=channel,
            version=1,
            instructions="",
            is_sensitive=False,
            conditions=tree,
            valid_from_dt=None,
            valid_to_dt=None,
        )
        for n, (tree, channel) in enumerate(zip(normal_trees, channels, strict=True))
    ]
    return Engine(
        compile_profiles(rows, LIST_VALUES),
        version=1,
        seed="property",
        rates=Rates(target={}, random={}),
        ml_threshold=None,
        ml_channel="red",
    )


CHANNEL = st.sampled_from(["blue", "yellow", "orange", "red"])


@settings(SETTINGS, max_examples=60)
@given(
    trees=st.lists(st.tuples(valid_tree(), CHANNEL), min_size=1, max_size=4),
    declaration=declarations,
    categorical=st.booleans(),
)
def test_compiled_engine_and_masks_equal_the_reference(trees, declaration, categorical):
    decl, items = declaration
    normal = [_validate(t) for t, _ in trees]
    engine = _engine(normal, [c for _, c in trees])
    frame = _frame(decl, items, categorical)
    expected_hits = set()
    for pid, tree in enumerate(normal, start=1):
        fn = rules.compile_tree(tree, LIST_VALUES)
        want = [reference(tree, decl, item) for item in items]
        assert [fn(decl, item) for item in items] == want, rules.describe(tree)
        mask = rules.tree_mask(tree, frame, LIST_VALUES) if items else np.zeros(0, dtype=bool)
        assert mask.tolist() == want, rules.describe(tree)
        matched = tuple(n for n, hit in enumerate(want) if hit)
        if matched:
            expected_hits.add((pid, matched))
    when = datetime.now(UTC)
    indexed = {(p.id, tuple(m)) for p, m in engine.evaluate(decl, items, when)}
    baseline = {(p.id, tuple(m)) for p, m in engine.evaluate_all(decl, items, when)}
    assert indexed == expected_hits
    assert baseline == expected_hits


# --- code is data -------------------------------------------------------------------------


@settings(SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.sampled_from(HOSTILE_TEXT) | st.text(min_size=1, max_size=40),
    other=st.text(max_size=40),
    field=st.sampled_from(["declarant", "importer", "seller", "courier", "office", "tax_type"]),
)
def test_text_holding_code_is_matched_literally(monkeypatch, text, field, other):
    assume(text.strip() and text.strip().isprintable() and "," not in text and ";" not in text)
    value = text.strip()
    with nothing_executes(monkeypatch):
        tree = _validate(
            {
                "join": "or",
                "conditions": [
                    {"field": field, "op": "eq", "value": text},
                    {"field": field, "op": "in", "value": [text]},
                    {"field": field, "op": "prefix", "value": text},
                ],
            }
        )
        assert [c["value"] for c in tree["conditions"]] == [value, [value], [value]]
        fn = rules.compile_tree(tree, LIST_VALUES)
        level = FIELDS[field].level
        as_decl = {field: value} if level == "declaration" else {}
        as_item = {field: value} if level == "item" else {}
        assert fn(as_decl, as_item) is True
        other_decl = {field: other} if level == "declaration" else {}
        other_item = {field: other} if level == "item" else {}
        assert fn(other_decl, other_item) is other.startswith(value)
        assert value in rules.describe(tree)


def test_code_in_a_profile_is_stored_and_matched_as_text(db, monkeypatch):
    from tests.risk.factories import body, cond, no_random, profile, submit, tree

    fired = []
    monkeypatch.setattr(os, "system", lambda *a: fired.append(a))
    no_random()
    hit = profile(conditions=tree(cond("importer", "eq", CODE)))
    decl = submit(body(importer=CODE))
    assert [p["code"] for p in decl.assessment["profiles"]] == [hit.code]
    assert submit(body(importer="x")).assessment["profiles"] == []
    assert db.session.get(RiskProfile, hit.id).conditions["conditions"][0]["value"] == CODE
    assert fired == []


def test_no_module_of_the_application_evaluates_code():
    """eval/exec/compile() and __import__ with a computed name appear nowhere in app/."""
    root = Path(__file__).resolve().parents[2] / "app"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("eval", "exec", "compile", "__import__")
            ):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.func.id}")
    assert not found, found


# --- the profile service ----------------------------------------------------------------------


def _profile_data(conditions):
    return {
        "name": "Property profile",
        "risk_area": "Hostile input",
        "channel": "red",
        "instructions": "Check.",
        "conditions": conditions,
    }


def _counts(db):
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (RiskProfile, RiskProfileVersion)
    )


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=corrupted_tree())
def test_the_profile_service_rejects_corrupted_trees_and_writes_nothing(db, case):
    tree, path = case
    actor = Actor.system("property")
    before = _counts(db)
    savepoint = db.session.begin_nested()
    try:
        for name, (kind, values) in LISTS.items():
            profiles.save_list(name, kind, values, actor=actor)
        with pytest.raises(ValidationError) as exc:
            profiles.create_profile(_profile_data(tree), actor=actor)
        assert set(exc.value.fields) == {path}
    finally:
        savepoint.rollback()
    assert _counts(db) == before == (0, 0)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=valid_tree(), lists_first=st.booleans())
def test_the_profile_service_stores_the_normalised_tree(db, tree, lists_first):
    actor = Actor.system("property")
    savepoint = db.session.begin_nested()
    try:
        for name, (kind, values) in LISTS.items():
            profiles.save_list(name, kind, values, actor=actor)
        created = profiles.create_profile(_profile_data(tree), actor=actor)
        assert created.conditions == _validate(tree)
        again = profiles.update_profile(created.id, _profile_data(created.conditions), actor=actor)
        assert again.version == 1  # the stored tree validates to itself: no change
    finally:
        savepoint.rollback()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ["x"]}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"risk_area": {"a": 1}}, "risk_area"),
        ({"channel": ["red"]}, "channel"),
        ({"channel": "green"}, "channel"),
        ({"recipients": {"users": 5}}, "recipients.users"),
        ({"recipients": {"users": [10**40]}}, "recipients.users[0]"),
        ({"recipients": {"roles": [["admin"]]}}, "recipients.roles[0]"),
        ({"recipients": {"groups": []}}, "recipients.groups"),
        ({"recipients": ["x"]}, "recipients"),
        ({"valid_from": "tomorrow"}, "valid_from"),
    ],
)
def test_profile_fields_of_the_wrong_type_name_the_field(db, data, field):
    good = _profile_data({"field": "office", "op": "eq", "value": "30"})
    with pytest.raises(ValidationError) as exc:
        profiles.create_profile({**good, **data}, actor=Actor.system("property"))
    assert set(exc.value.fields) == {field}
    assert _counts(db) == (0, 0)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=corrupted_tree())
def test_the_editor_preview_answers_hostile_trees_with_their_paths(client, login_as, case):
    """The editor posts the raw JSON tree: a hostile one is an answer, never a 500."""
    if not getattr(client, "_signed_in", False):
        login_as("risk_analyst")
        client._signed_in = True
    tree, path = case
    response = client.post("/risk/profiles/preview", json=tree)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is False and path in body["errors"]
