"""The compiled name alignment (app/screening/_align.c) gives matcher.py's results exactly.

matcher.py is the reference; the C module is the same alignment compiled for the
declaration path (issue 20: a party's twenty candidates cost ~0.3 ms in Python). Compared on
every query of the quality set against every entry of its list, and on generated names
built to reach each branch: shared skeletons, prefixes, joined words, patronymics, ties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.screening import matcher, normalize
from tests.screening.factories import require_compiled
from tests.screening.test_quality import ENTRIES, NEAR_MISSES, VARIANTS

ALIGN = matcher._ALIGN


def _require_built():
    require_compiled(ALIGN, "_align.c", "matcher.py scores in Python")


def _python(query, names, prefix):
    return [matcher.best_name(query, encoded, prefix) for encoded in names]


def _compiled(query, names, prefix):
    return ALIGN.best_names(query, names, prefix, matcher.skeleton, matcher._patronymic)


def _encoded(entry) -> str:
    props = entry["properties"]
    names = props["name"] + props.get("alias", [])
    return normalize.encode_names(normalize.name_tokens(n, entry["schema"]) for n in names)


def test_quality_set_scores_are_the_same():
    _require_built()
    names = [_encoded(e) for e in ENTRIES]
    for query, _entry in VARIANTS + NEAR_MISSES:
        tokens = normalize.name_tokens(query.name, query.schema)
        for prefix in (False, True):
            assert _compiled(tokens, names, prefix) == _python(tokens, names, prefix), query


# syllables that share skeletons and prefixes, and endings that read as patronymics
_PARTS = "ka kha qa ga mo mu ham med mad al lah ov ich vich ovna sh ch t r in put ser gei ey a zz"
_PARTS = _PARTS.split()
_token = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=4).map("".join)
_name = st.lists(_token, min_size=1, max_size=5)


@settings(max_examples=400, deadline=None)
@given(query=_name, entries=st.lists(st.lists(_name, min_size=1, max_size=3), max_size=6),
       prefix=st.booleans())  # fmt: skip
def test_generated_scores_are_the_same(query, entries, prefix):
    _require_built()
    names = ["\t".join(" ".join(n) for n in entry) for entry in entries]
    assert _compiled(tuple(query), names, prefix) == _python(tuple(query), names, prefix)


def test_ties_resolve_as_in_python():
    """Equal similarities are taken in Python's order (the later token first): "air" is as
    like "airline" as "airlines" (a prefix), and which one pairs changes the weight."""
    _require_built()
    for query, names, prefix in (
        (("ali", "ali", "hasan"), ["ali hasan ali", "hasan ali\tali ali hasan", "ali"], False),
        (("air", "cargo"), ["airline airlines cargo", "airlines airline"], True),
        (("qadhafi", "kadafi"), ["gaddafi kadhafi qaddafi"], False),
    ):
        assert _compiled(query, names, prefix) == _python(query, names, prefix)


def test_names_it_cannot_take_are_scored_in_python():
    """A token outside ASCII (the index never stores one, but a list of an older release
    might) or a name of more than 62 tokens: the C module declines, best_names falls back."""
    _require_built()
    long_name = " ".join(f"w{i}" for i in range(70))
    for query, names in ((("müller",), ["muller"]), (("w1", "w2"), [long_name])):
        assert _compiled(query, names, False) is None
        assert matcher.best_names(query, names) == _python(query, names, False)


def test_a_fault_in_a_callback_is_raised_not_swallowed():
    _require_built()

    def broken(_token):
        raise RuntimeError("skeleton failed")

    with pytest.raises(RuntimeError, match="skeleton failed"):
        ALIGN.best_names(("qadhafi",), ["gaddafi"], False, broken, matcher._patronymic)
