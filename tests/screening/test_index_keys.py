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
