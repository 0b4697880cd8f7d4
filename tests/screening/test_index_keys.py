"""The screening index's blocking keys (issue 20)."""

from app.screening.index import Segment


def _row(entry_id, names, births):
    return (entry_id, entry_id, "Person", names, None, '["ru"]', births, 1)


def test_birth_years_are_keys_when_the_dates_come_as_json_text():
    """The index reads birth dates as the database's JSON text: the year is the key
    ("@1952"), not each character of the text ("@[", "@1" on every entry)."""
    segment = Segment(1, (), [_row("a", "vladimir putin", '["1952-10-07"]'),
                              _row("b", "ivan petrov", "[]")])  # fmt: skip
    keys = set(segment.key_ids)
    assert "@1952" in keys
    assert not [k for k in keys if k.startswith("@") and len(k) != 5], keys


def _namesakes(n: int) -> list[tuple]:
    import random

    rng = random.Random(5)
    words = {"".join(rng.choices("bdfgklmnprstvz", k=7)) for _ in range(n)}
    return [_row(f"n{i}", f"michael {w}", "[]") for i, w in enumerate(sorted(words))]


def test_a_swapped_consonant_pair_is_found_among_a_thousand_namesakes_of_the_first_name():
    """ "Michael Bortel" for the listed "Michael Botrel": the swap changes the surname's
    skeleton (brtl / btrl), so the name shares only its common first name with the entry;
    the index also looks the word up with adjacent letters swapped back, and the entry is
    scored instead of being left to chance among 1,000 Michaels."""
    from app.screening.service import ListMeta, PartyQuery, ScreeningIndex

    rows = _namesakes(1000) + [_row("botrel", "michael botrel", '["1970-01-01"]')]
    index = ScreeningIndex({1: Segment(1, (), rows)}, {1: ListMeta(1, "L", "v", "P", 0.7)})
    matches = index.screen(PartyQuery("Michael Bortel", "Person"), cache=False)
    assert [m.entry_id for m in matches][:1] == ["botrel"], matches


def test_a_common_word_beside_a_word_no_entry_has_brings_no_namesakes_to_score():
    """ "John Detrolflors" against a list of 1,000 Johns (none called anything like
    Detrolflors): an entry sharing only "John" scores below any threshold, so none is
    scored; the name written out with a listed surname still finds its entry."""
    from app.screening.service import PartyQuery, prepare

    rows = _namesakes(1000) + [_row("botrel", "john botrel", "[]")]
    rows = [(r[0], r[1], r[2], r[3].replace("michael", "john"), *r[4:]) for r in rows]
    segment = Segment(1, (), rows)
    assert len(segment.candidates(prepare(PartyQuery("John Detrolflors", "Person")))) == 0
    found = list(segment.candidates(prepare(PartyQuery("John Botrel", "Person"))))
    assert segment.entry_ids.index("botrel") in found


def test_common_words_beside_a_word_no_entry_has_bring_no_namesakes_to_score():
    """ "Gamjundkit Trading Holding" against 1,000 "... Trading Holding" companies (none
    called anything like Gamjundkit): which of them the common words brought to be scored
    was down to their order, and intersecting and ranking thousands of them was the
    candidate search's p99 at a million entries. None is scored, in C and in numpy; the
    name with a listed word still finds its entry."""
    import random

    from app.screening.service import PartyQuery, prepare

    rng = random.Random(6)
    words = sorted({"".join(rng.choices("bdfgklmnprstvz", k=8)) for _ in range(1000)})
    rows = [(f"c{i}", f"{w} trading holding", "Company", f"{w} trading holding", None, "[]",
             "[]", 1) for i, w in enumerate(words)]  # fmt: skip
    rows.append(("dalnir", "dalnir trading holding", "Company", "dalnir trading holding",
                 None, "[]", "[]", 1))  # fmt: skip
    segment = Segment(1, (), rows)
    unknown = prepare(PartyQuery("Gamjundkit Trading Holding Ltd", "Company"))
    assert list(segment.candidates(unknown)) == []
    assert len(segment.candidates_py(unknown)) == 0
    listed = prepare(PartyQuery("Dalnir Trading Holding Ltd", "Company"))
    assert segment.entry_ids.index("dalnir") in list(segment.candidates(listed))
    assert segment.entry_ids.index("dalnir") in segment.candidates_py(listed).tolist()


def test_membership_and_intersection_agree_with_numpy_whichever_side_is_longer():
    """_member searches the shorter side in the longer, Segment._both marks entries: both
    give numpy's answer, and the marks are left clean for the next query."""
    import numpy as np

    from app.screening.index import _member

    rng = np.random.default_rng(3)
    segment = Segment(1, (), [_row(f"e{i}", "ivan petrov", "[]") for i in range(5000)])
    for a_size, b_size in ((5, 4000), (4000, 5), (0, 10), (10, 0), (2500, 2500)):
        a = np.sort(rng.choice(5000, a_size, replace=False)).astype(np.int32)
        b = np.sort(rng.choice(5000, b_size, replace=False)).astype(np.int32)
        assert _member(a, b).tolist() == np.isin(b, a).astype(np.int32).tolist()
        both = segment._both(a, b)
        expected = np.intersect1d(a, b)
        assert (both is None and not len(expected)) or both.tolist() == expected.tolist()
        assert not segment._marks.array.any()


def test_the_index_columns_are_not_walked_by_the_cyclic_collector():
    """A million-entry index's string columns, kept in lists, were walked by every full
    collection (~470 ms of a 590 ms pause): kept in tuples of strings, the collector stops
    tracking them at its first pass."""
    import gc

    segment = Segment(1, (), [_row(f"e{i}", "ivan petrov", '["1970"]') for i in range(50)])
    gc.collect()
    for column in ("entry_ids", "captions", "names", "idents", "countries", "births"):
        assert not gc.is_tracked(getattr(segment, column)), column
    assert not gc.is_tracked(segment.key_ids)
