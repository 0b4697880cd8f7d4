"""The compiled candidate search and skeletons (app/screening/_blocking.c) give the Python
reference's results exactly: ``Segment.candidates_py``, ``Segment._name_groups``,
``normalize.skeleton_py`` and ``normalize.transposed_skeletons_py``.

The candidate search is compared on a generated list small enough to build here and
crowded enough to reach each of its paths: rare keys, keys common to more than COMMON_KEY
entries (met through the words as written, or through the two rarest keys), a common word
beside a word no entry has, identifiers, birth years, typing slips, more than
MAX_CANDIDATES candidates ranked with ties, and schemata a query may not match."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.screening import index as index_module
from app.screening import normalize
from app.screening.index import Segment
from app.screening.service import PartyQuery, prepare
from tests.screening.factories import require_compiled

BLOCKING = normalize._BLOCKING


def _require_built():
    require_compiled(BLOCKING, "_blocking.c", "the index searches in numpy")


# syllables that reach every digraph, letter class, doubled letter and the "Ja-" rule
_PARTS = "shch sch tch dzh kh gh ph th dh zh dj sh ch ts tz ck ja je ju q g c w z x a e i o u y"
_PARTS = (_PARTS + " b d l m n r t v 0 7 tt ll ss").split()
_token = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=6).map("".join)


@settings(max_examples=2000, deadline=None)
@given(token=st.one_of(_token, st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1,
                                       max_size=30)))  # fmt: skip
def test_skeletons_are_the_same(token):
    _require_built()
    assert BLOCKING.skeleton(token) == normalize.skeleton_py(token)
    swapped = {
        normalize.skeleton_py(token[:i] + token[i + 1] + token[i] + token[i + 2 :])
        for i in range(len(token) - 1)
        if token[i] != token[i + 1]
    }
    swapped.discard(normalize.skeleton_py(token))
    assert BLOCKING.transposed(token) == tuple(sorted(swapped))


def test_tokens_that_are_not_plain_are_left_to_python():
    _require_built()
    for token in ("", "é", "a-b", "Ab", "x" * 300):
        assert BLOCKING.skeleton(token) is None
        assert BLOCKING.transposed(token) is None
        assert normalize.skeleton(token) == normalize.skeleton_py(token)


_FIRST = ["john", "michael", "ali", "maria", "ivan", "mohammed", "olga", "li"]
_LAST = [f"{a}{b}" for a in ("pet", "kuz", "hus", "sm", "wan", "bot", "rah", "fed", "nov")
         for b in ("rov", "nets", "sein", "ith", "g", "rel", "man", "orov")]  # fmt: skip
_RARE = ["detrolflors", "qadhafi", "gaddafi", "bortel", "yanukovych", "zhukov", "tchaikov"]
_COMPANY = ["trading", "oil", "shipping", "global", "rosneft", "sovcomflot", "alpha"]


def _rows(n: int, rng: random.Random) -> list[tuple]:
    rows = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.6:
            schema = rng.choice(("Person", "Person", "LegalEntity"))
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if rng.random() < 0.05:
                name += f" {rng.choice(_RARE)}"
        elif kind < 0.95:
            schema = rng.choice(("Company", "Organization", "LegalEntity"))
            name = " ".join(rng.sample(_COMPANY, rng.randint(1, 3)))
        else:
            schema, name = "Vessel", f"{rng.choice(_COMPANY)} {rng.choice(_RARE)}"
        idents = f"imoNumber:{9000000 + i}" if rng.random() < 0.5 else None
        births = f'["{rng.randint(1950, 1990)}-01-01"]' if schema == "Person" else "[]"
        rows.append((f"e{i}", name, schema, name, idents, "[]", births, i))
    return rows


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or rng.random() < 0.5:
        return word
    i = rng.randrange(len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _queries(n: int, rng: random.Random) -> list[PartyQuery]:
    words = _FIRST + _LAST + _RARE + _COMPANY + ["unknownword", "zzyzx"]
    out = []
    for _ in range(n):
        tokens = [_typo(rng.choice(words), rng) for _ in range(rng.randint(1, 4))]
        schema = rng.choice(("Person", "Company", "Organization", "LegalEntity", "Vessel"))
        idents = (str(9000000 + rng.randrange(3000)),) if rng.random() < 0.3 else ()
        birth = f"{rng.randint(1950, 1990)}-01-01" if rng.random() < 0.3 else None
        out.append(PartyQuery(" ".join(tokens), schema, None, idents, birth))
    return out


def test_a_querys_keys_are_the_same():
    """``query_keys`` gives what ``Segment._name_groups``, ``len(prepared.keys)`` and the ids
    of ``prepared.exact_keys`` give: typing slips probed for rare and unknown words, a
    repeated word and initials once or not at all."""
    _require_built()
    rng = random.Random(21)
    segment = Segment(1, (), _rows(3000, rng))
    queries = _queries(1500, rng) + [
        PartyQuery("Trading Trading Oil", "Company"),
        PartyQuery("J. R. Petrov", "Person"),
        PartyQuery("Botrel Bortel", "Person"),
        PartyQuery("x", "Person"),
    ]
    probed = 0
    for query in queries:
        prepared = prepare(query)
        n_keys, groups, exact = BLOCKING.query_keys(
            segment.key_ids, segment.offsets, prepared.tokens, index_module.TYPO_PROBE
        )
        reference = segment._name_groups(prepared)
        assert n_keys == len(prepared.keys), query
        assert [sorted(g) for g in groups] == [sorted(g) for g in reference], query
        exact_ids = [segment.key_ids[k] for k in prepared.exact_keys if k in segment.key_ids]
        assert sorted(exact) == sorted(exact_ids), query
        probed += any(len(g) > 1 for g in groups)
    assert probed > 50  # the typing slips were reached


def test_a_query_with_a_token_that_is_not_plain_is_left_to_python():
    _require_built()
    segment = Segment(1, (), _rows(50, random.Random(1)))
    assert BLOCKING.query_keys(segment.key_ids, segment.offsets, ("ivan", "é"), 50) is None
    assert BLOCKING.query_keys(segment.key_ids, segment.offsets, ("x" * 300,), 50) is None
    with pytest.raises(TypeError):
        BLOCKING.query_keys(segment.key_ids, segment.offsets, ["ivan"], 50)


@pytest.mark.parametrize("common_key", [index_module.COMMON_KEY, 40])
def test_candidates_are_the_same(monkeypatch, common_key):
    """Every generated query gets the same candidates from C and from numpy; with
    COMMON_KEY lowered to 40 most keys are common, so the intersecting paths run too."""
    _require_built()
    monkeypatch.setattr(index_module, "COMMON_KEY", common_key)
    rng = random.Random(20)
    segment = Segment(1, (), _rows(3000, rng))
    ranked = 0
    for query in _queries(1500, rng):
        prepared = prepare(query)
        compiled = segment.candidates(prepared)
        reference = segment.candidates_py(prepared).tolist()
        assert sorted(compiled) == sorted(reference), query
        assert len(set(compiled)) == len(compiled)
        ranked += len(compiled) == index_module.MAX_CANDIDATES
    assert ranked > 100  # the ranking and its ties were reached


def test_bad_arguments_are_refused_not_read_out_of_bounds():
    _require_built()
    segment = Segment(1, (), _rows(50, random.Random(1)))
    args = [segment.postings, segment.offsets, segment.schemas]
    rest = [2, [], [], -1, bytes(8), 20, 500, 100]
    with pytest.raises(IndexError):
        BLOCKING.candidates(*args, [[len(segment.key_ids)]], *rest)
    with pytest.raises(ValueError):
        BLOCKING.candidates(*args, [[]], *rest)
    with pytest.raises(IndexError):
        BLOCKING.candidates(*args, [], 1, [-1], [], -1, bytes(8), 20, 500, 100)
