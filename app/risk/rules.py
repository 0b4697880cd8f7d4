"""The profile rule language: a JSON condition tree, never code.

A tree is either a group ``{"join": "and" | "or", "conditions": [...]}`` or a condition
``{"field": "hs_code", "op": "prefix", "value": "0808"}``. Groups nest. A profile fires on a
declaration when its tree holds for at least one item (declaration fields are shared by all
items). This module validates trees (errors name the JSON path), renders them as a sentence,
and compiles them into Python closures (the real-time engine) or numpy masks (simulation).
User text is only ever compared as data: nothing is evaluated.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.core.errors import ValidationError


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    #: "declaration" (same for every item) or "item"
    level: str
    #: code, country, hs, number, bool
    kind: str
    #: named-list kind this field can be compared with (None: no lists)
    list_kind: str | None = None
    #: derived from history or other domains (computed by the engine)
    derived: bool = False
    hint: str = ""


FIELDS: dict[str, FieldDef] = {
    f.name: f
    for f in (
        FieldDef("office", "customs office", "declaration", "code", "office"),
        FieldDef("procedure", "procedure", "declaration", "code"),
        FieldDef("import_type", "import type", "declaration", "code"),
        FieldDef("import_use", "import use", "declaration", "code"),
        FieldDef("payment_type", "payment type", "declaration", "code"),
        FieldDef("transport_mode", "transport mode", "declaration", "code"),
        FieldDef("dispatch_country", "country of dispatch", "declaration", "country", "country"),
        FieldDef("declarant", "declarant", "declaration", "code", "trader"),
        FieldDef("importer", "importer", "declaration", "code", "trader"),
        FieldDef("seller", "seller", "declaration", "code", "trader"),
        FieldDef("courier", "courier", "declaration", "code", "trader"),
        FieldDef("hs_code", "HS code", "item", "hs", "hs_code"),
        FieldDef("origin", "country of origin", "item", "country", "country"),
        FieldDef("departure", "country of departure", "item", "country", "country"),
        FieldDef("value", "item value", "item", "number"),
        FieldDef("mass", "net mass (kg)", "item", "number"),
        FieldDef("unit_value", "unit value (per kg)", "item", "number"),
        FieldDef("tax_rate", "tax rate (%)", "item", "number"),
        FieldDef("tax_type", "tax type", "item", "code"),
        FieldDef("origin_indicator", "origin indicator", "item", "code"),
        FieldDef(
            "trader_rating",
            "importer's trader rating",
            "declaration",
            "number",
            derived=True,
            hint="0 (low risk) to 100 (high risk), from the audit domain",
        ),
        FieldDef(
            "ml_score",
            "ML score",
            "item",
            "number",
            derived=True,
            hint="0 to 1, from the active ML model",
        ),
        FieldDef(
            "first_importer_chapter",
            "first declaration of this importer for the HS chapter",
            "item",
            "bool",
            derived=True,
        ),
        FieldDef(
            "unit_value_deviation",
            "unit value deviation from the HS6 peer median (%)",
            "item",
            "number",
            derived=True,
            hint="-60 means 60% below the median value per kg of the same HS6",
        ),
        FieldDef(
            "party_screening_score",
            "best screening score of a party",
            "declaration",
            "number",
            derived=True,
            hint="0 to 1: the best score of the declaration's parties on the active sanctions "
            "and watch lists (only matches at their list's threshold count; empty otherwise)",
        ),
        FieldDef(
            "party_on_list",
            "screening lists a party matched",
            "declaration",
            "names",
            derived=True,
            hint="names of the screening lists a party matched (at the list's threshold, "
            "judged false positives excluded)",
        ),
    )
}

#: operator -> (label, field kinds it applies to, value shape)
OPERATORS = {
    "eq": ("is", {"code", "country", "hs", "number"}, "scalar"),
    "ne": ("is not", {"code", "country", "hs", "number"}, "scalar"),
    "in": ("is one of", {"code", "country", "hs"}, "list"),
    "not_in": ("is none of", {"code", "country", "hs"}, "list"),
    "prefix": ("starts with", {"hs", "code"}, "list"),
    "not_prefix": ("does not start with", {"hs", "code"}, "list"),
    "in_list": ("is in list", {"code", "country", "hs"}, "list_name"),
    "not_in_list": ("is not in list", {"code", "country", "hs"}, "list_name"),
    "gt": ("is above", {"number"}, "number"),
    "gte": ("is at least", {"number"}, "number"),
    "lt": ("is below", {"number"}, "number"),
    "lte": ("is at most", {"number"}, "number"),
    "between": ("is between", {"number"}, "range"),
    "is_true": ("is true", {"bool"}, "none"),
    "is_false": ("is false", {"bool"}, "none"),
    # "names": a set of names (the screening lists a party matched)
    "on_any": ("is one of", {"names"}, "list"),
    "on_none": ("is none of", {"names"}, "list"),
}
MAX_DEPTH = 6
MAX_CONDITIONS = 60
MAX_VALUES = 5000
MAX_TEXT = 40
_GROUP_KEYS = {"join", "conditions"}
_CONDITION_KEYS = {"field", "op", "value"}


def _shown(value) -> str:
    """``value`` for an error message: short, and never ``repr`` of a huge integer (which
    raises ValueError beyond 4300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "a number of more than 38 digits"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:60] + "…")
    if isinstance(value, dict | list | tuple):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return repr(value)


def _norm_text(kind: str, value, path: str, errors: dict) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[path] = "must be text"
        return None
    if isinstance(value, int) and value.bit_length() > 128:
        errors[path] = f"is longer than {MAX_TEXT} characters"
        return None
    text = str(value).strip()
    if not text:
        errors[path] = "must not be empty"
        return None
    if len(text) > MAX_TEXT:
        errors[path] = f"is longer than {MAX_TEXT} characters"
        return None
    if not text.isprintable():
        # NUL cannot be stored (PostgreSQL JSON), and no code holds a control character.
        errors[path] = "must not contain control characters"
        return None
    if kind == "country":
        text = text.upper()
        if len(text) != 2 or not (text.isascii() and text.isalpha()):
            errors[path] = f"{_shown(value)} is not an ISO 3166 alpha-2 country code"
            return None
    if kind == "hs":
        text = text.replace(".", "").replace(" ", "")
        # ASCII digits: str.isdigit() also holds for "²" and other scripts' digits.
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            errors[path] = f"{_shown(value)} is not an HS code or prefix (digits only)"
            return None
    return text


def _norm_number(value, path: str, errors: dict) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[path] = "must be a number"
        return None
    if isinstance(value, str) and (len(value) > 60 or "_" in value):
        errors[path] = f"{_shown(value)} is not a number"
        return None
    try:
        number = float(value)
    except ValueError:
        errors[path] = f"{_shown(value)} is not a number"
        return None
    except OverflowError:  # an integer beyond the float range
        errors[path] = "must be a finite number"
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors[path] = "must be a finite number"
        return None
    return number


def _unknown_keys(node: dict, known: set, what: str, path: str, errors: dict) -> None:
    for key in node:
        if key not in known:
            where = f"{path}.{key}" if isinstance(key, str) and len(key) <= 40 else path
            errors[where] = f"{_shown(key)} is not a key of a {what} ({', '.join(sorted(known))})"


def validate(tree, *, lists: dict | None = None) -> dict:
    """Check and normalise a condition tree. ``lists`` maps list names to their kind.

    Raises ValidationError whose keys are JSON paths (``conditions.conditions[1].value``).
    """
    errors: dict[str, str] = {}
    count = [0]
    normal = _validate_node(tree, "conditions", 0, lists or {}, errors, count)
    if not errors and count[0] == 0:
        errors["conditions"] = "add at least one condition"
    if errors:
        raise ValidationError(errors)
    return normal


def _validate_node(node, path, depth, lists, errors, count):
    if not isinstance(node, dict):
        errors[path] = "must be a condition or a group"
        return None
    if "join" in node or "conditions" in node:
        return _validate_group(node, path, depth, lists, errors, count)
    count[0] += 1
    if count[0] > MAX_CONDITIONS:
        if count[0] == MAX_CONDITIONS + 1:  # once, at the first condition too many
            errors[path] = f"a profile has at most {MAX_CONDITIONS} conditions"
        return None
    return _validate_condition(node, path, lists, errors)


def _validate_group(node, path, depth, lists, errors, count):
    if depth >= MAX_DEPTH:
        errors[path] = f"groups nest at most {MAX_DEPTH} deep"
        return None
    _unknown_keys(node, _GROUP_KEYS, "group", path, errors)
    join = node.get("join")
    if not isinstance(join, str) or join not in ("and", "or"):
        errors[f"{path}.join"] = "must be 'and' or 'or'"
    children = node.get("conditions")
    if not isinstance(children, list) or not children:
        errors[f"{path}.conditions"] = "must be a non-empty list"
        return None
    if len(children) > MAX_CONDITIONS:
        errors[f"{path}.conditions"] = f"a profile has at most {MAX_CONDITIONS} conditions"
        return None
    normal = [
        _validate_node(child, f"{path}.conditions[{i}]", depth + 1, lists, errors, count)
        for i, child in enumerate(children)
    ]
    return {"join": join, "conditions": normal}


def _validate_condition(node, path, lists, errors):
    _unknown_keys(node, _CONDITION_KEYS, "condition", path, errors)
    name = node.get("field")
    field = FIELDS.get(name) if isinstance(name, str) else None
    if field is None:
        errors[f"{path}.field"] = f"unknown field {_shown(name)}"
        return None
    op = node.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        errors[f"{path}.op"] = f"unknown operator {_shown(op)}"
        return None
    label, kinds, shape = OPERATORS[op]
    if field.kind not in kinds:
        errors[f"{path}.op"] = f"'{label}' does not apply to {field.label}"
        return None
    value = _VALUE_SHAPES[shape](node.get("value"), field, op, f"{path}.value", lists, errors)
    if value is _INVALID:
        return None
    return {"field": name, "op": op, "value": value}


#: a condition's value that makes the whole condition unusable (its error is recorded)
_INVALID = object()


def _value_none(value, field, op, vpath, lists, errors):
    return None


def _value_number(value, field, op, vpath, lists, errors):
    return _norm_number(value, vpath, errors)


def _value_range(value, field, op, vpath, lists, errors):
    if not isinstance(value, list | tuple) or len(value) != 2:
        errors[vpath] = "must be two numbers [low, high]"
        return _INVALID
    low = _norm_number(value[0], f"{vpath}[0]", errors)
    high = _norm_number(value[1], f"{vpath}[1]", errors)
    if low is not None and high is not None and low > high:
        errors[vpath] = "low is above high"
    return [low, high]


def _value_scalar(value, field, op, vpath, lists, errors):
    if field.kind == "number":
        return _norm_number(value, vpath, errors)
    return _norm_text(field.kind, value, vpath, errors)


def _value_list(value, field, op, vpath, lists, errors):
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        errors[vpath] = "must list at least one value"
        return _INVALID
    if len(value) > MAX_VALUES:
        errors[vpath] = f"at most {MAX_VALUES} values"
        return _INVALID
    kind = "hs" if field.kind == "hs" else ("code" if op.endswith("prefix") else field.kind)
    normal = [_norm_text(kind, v, f"{vpath}[{i}]", errors) for i, v in enumerate(value)]
    return sorted(set(v for v in normal if v is not None))


def _value_list_name(value, field, op, vpath, lists, errors):
    if not isinstance(value, str) or value not in lists:
        errors[vpath] = f"no named list {_shown(value)}"
    elif field.list_kind != lists[value]:
        errors[vpath] = (
            f"list {value!r} holds {lists[value]} values, not "
            f"{field.list_kind or field.kind} values"
        )
    return value


#: operator shape (OPERATORS) -> how its value is checked and normalised
_VALUE_SHAPES = {
    "none": _value_none,
    "number": _value_number,
    "range": _value_range,
    "scalar": _value_scalar,
    "list": _value_list,
    "list_name": _value_list_name,
}


# --- reading a tree back -----------------------------------------------------------------


def _value_text(op, value) -> str:
    shape = OPERATORS[op][2]
    if shape == "none":
        return ""
    if shape == "range":
        return f" {_num(value[0])} and {_num(value[1])}"
    if shape == "list_name":
        return f" “{value}”"
    if shape == "list":
        return " " + (
            value[0]
            if len(value) == 1
            else ", ".join(value[:8]) + (f" (+{len(value) - 8} more)" if len(value) > 8 else "")
        )
    return f" {_num(value) if isinstance(value, float) else value}"


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def condition_text(cond: dict) -> str:
    field = FIELDS[cond["field"]]
    return f"{field.label} {OPERATORS[cond['op']][0]}{_value_text(cond['op'], cond['value'])}"


def describe(tree, top: bool = True) -> str:
    """The tree as a readable sentence, e.g. ``HS code starts with 0808 and origin is US``."""
    if "join" in tree:
        parts = [describe(c, top=False) for c in tree["conditions"]]
        text = f" {tree['join']} ".join(parts)
        return text if top or len(parts) == 1 else f"({text})"
    return condition_text(tree)


def leaves(tree) -> list[dict]:
    if "join" in tree:
        return [leaf for c in tree["conditions"] for leaf in leaves(c)]
    return [tree]


def fields_used(tree) -> set[str]:
    return {leaf["field"] for leaf in leaves(tree)}


def list_names(tree) -> set[str]:
    return {leaf["value"] for leaf in leaves(tree) if leaf["op"] in ("in_list", "not_in_list")}


# --- compiled closures (real-time engine) ------------------------------------------------


def _resolve_values(cond, lists_values):
    """The concrete value set of a list condition (named lists resolved)."""
    if cond["op"] in ("in_list", "not_in_list"):
        return frozenset(lists_values.get(cond["value"], ()))
    return frozenset(cond["value"])


def _value_test(cond: dict, lists_values: dict):
    """A predicate on the field's value alone (None never matches, except via negation)."""
    op, value = cond["op"], cond["value"]
    field = FIELDS[cond["field"]]
    if op == "eq":
        return lambda v: v == value
    if op == "ne":
        return lambda v: v is not None and v != value
    if op in ("in", "not_in", "in_list", "not_in_list"):
        values = _resolve_values(cond, lists_values)
        negate = op.startswith("not")
        if field.kind == "hs":
            # HS lists hold prefixes: a code matches an entry it starts with.
            lengths = sorted({len(v) for v in values})

            def hs_in(v):
                if v is None:
                    return False
                return any(v[:n] in values for n in lengths) != negate

            return hs_in
        if negate:
            return lambda v: v is not None and v not in values
        return lambda v: v in values
    if op in ("prefix", "not_prefix"):
        prefixes = tuple(value)
        if op == "prefix":
            return lambda v: v is not None and v.startswith(prefixes)
        return lambda v: v is not None and not v.startswith(prefixes)
    if op == "gt":
        return lambda v: v is not None and v > value
    if op == "gte":
        return lambda v: v is not None and v >= value
    if op == "lt":
        return lambda v: v is not None and v < value
    if op == "lte":
        return lambda v: v is not None and v <= value
    if op == "between":
        low, high = value
        return lambda v: v is not None and low <= v <= high
    if op == "is_true":
        return lambda v: v is True
    if op == "is_false":
        return lambda v: v is False
    if op in ("on_any", "on_none"):
        names = frozenset(value)
        if op == "on_any":
            return lambda v: bool(v and names & v)
        return lambda v: v is not None and not names & v
    raise AssertionError(op)


def compile_condition(cond: dict, lists_values: dict):
    """A closure ``fn(decl: dict, item: dict) -> bool`` for one condition.

    The hot operators read the dict directly (one call per condition); the rest go through
    the value predicate."""
    name, op, value = cond["field"], cond["op"], cond["value"]
    on_item = FIELDS[name].level == "item"
    if op == "eq":
        if on_item:
            return lambda d, i: i.get(name) == value
        return lambda d, i: d.get(name) == value
    if op in ("in", "in_list") and FIELDS[name].kind != "hs":
        values = _resolve_values(cond, lists_values)
        if on_item:
            return lambda d, i: i.get(name) in values
        return lambda d, i: d.get(name) in values
    if op == "prefix":
        prefixes = tuple(value)
        if on_item:
            return lambda d, i: (v := i.get(name)) is not None and v.startswith(prefixes)
        return lambda d, i: (v := d.get(name)) is not None and v.startswith(prefixes)
    if op in ("gt", "lt") and on_item:
        if op == "gt":
            return lambda d, i: (v := i.get(name)) is not None and v > value
        return lambda d, i: (v := i.get(name)) is not None and v < value
    test = _value_test(cond, lists_values)
    if on_item:
        return lambda d, i: test(i.get(name))
    return lambda d, i: test(d.get(name))


def _all_of(parts):
    # Unrolled for the usual sizes: a chain of ``and`` is cheaper than a loop.
    if len(parts) == 2:
        a, b = parts
        return lambda d, i: a(d, i) and b(d, i)
    if len(parts) == 3:
        a, b, c = parts
        return lambda d, i: a(d, i) and b(d, i) and c(d, i)
    if len(parts) == 4:
        a, b, c, e = parts
        return lambda d, i: a(d, i) and b(d, i) and c(d, i) and e(d, i)

    def fn(d, i):
        for part in parts:  # noqa: SIM110 - a loop is faster than all(genexpr) here
            if not part(d, i):
                return False
        return True

    return fn


def _any_of(parts):
    def fn(d, i):
        for part in parts:  # noqa: SIM110 - a loop is faster than any(genexpr) here
            if part(d, i):
                return True
        return False

    return fn


def compile_tree(tree: dict, lists_values: dict):
    """A closure ``fn(decl, item) -> bool`` for a whole tree (short-circuiting)."""
    if "join" in tree:
        parts = tuple(compile_tree(c, lists_values) for c in tree["conditions"])
        if len(parts) == 1:
            return parts[0]
        return _all_of(parts) if tree["join"] == "and" else _any_of(parts)
    return compile_condition(tree, lists_values)


# --- vectorised masks (simulation) -------------------------------------------------------


def _cat_mask(series: pd.Series, predicate) -> np.ndarray:
    """Apply a predicate to a categorical column's categories, then broadcast by code."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        on_cats = np.fromiter((predicate(c) for c in cats), dtype=bool, count=len(cats))
        codes = series.cat.codes.to_numpy()
        out = np.zeros(len(series), dtype=bool)
        valid = codes >= 0
        out[valid] = on_cats[codes[valid]]
        return out
    return np.fromiter(
        (v is not None and v == v and predicate(v) for v in series), dtype=bool, count=len(series)
    )


def condition_mask(cond: dict, frame: pd.DataFrame, lists_values: dict) -> np.ndarray:
    """Boolean array over the frame's rows (items) for one condition."""
    name, op, value = cond["field"], cond["op"], cond["value"]
    field = FIELDS[name]
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    col = frame[name]
    if field.kind == "number":
        arr = col.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if op == "eq":
                return arr == value
            if op == "ne":
                return (arr != value) & ~np.isnan(arr)
            if op == "gt":
                return arr > value
            if op == "gte":
                return arr >= value
            if op == "lt":
                return arr < value
            if op == "lte":
                return arr <= value
            if op == "between":
                return (arr >= value[0]) & (arr <= value[1])
    if field.kind == "bool":
        arr = col.to_numpy()
        return (arr == True) if op == "is_true" else (arr == False)  # noqa: E712
    # Text-like columns: evaluate the same closure on each distinct value once.
    fn = compile_condition(cond, lists_values)
    if field.level == "declaration":
        return _cat_mask(col, lambda v: fn({name: v}, {}))
    return _cat_mask(col, lambda v: fn({}, {name: v}))


def tree_mask(tree: dict, frame: pd.DataFrame, lists_values: dict) -> np.ndarray:
    if "join" in tree:
        masks = [tree_mask(c, frame, lists_values) for c in tree["conditions"]]
        out = masks[0].copy()
        for m in masks[1:]:
            if tree["join"] == "and":
                out &= m
            else:
                out |= m
        return out
    return condition_mask(tree, frame, lists_values)
