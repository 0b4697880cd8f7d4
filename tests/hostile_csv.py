"""Shared pieces of the CSV importers' property tests (issue #9, hostile input).

``render`` writes records with the csv module, except ``Raw`` cells, which are written byte for
byte: bytes that are not UTF-8, or a stray quote the csv module would escape. The strategies
give the hostile cell values every importer must refuse (or, for formula-like text in free
text columns, store literally).
"""

import csv
import io

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select


def table_counts(db) -> dict[str, int]:
    """Rows of every table: an import that fails must leave every one unchanged (entities,
    links, cases, the access trail, the search queue, resolution candidates ...)."""
    tables = db.metadata.sorted_tables
    row = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return {table.name: count for table, count in zip(tables, row, strict=True)}


def db_settings(examples: int):
    """Hypothesis settings for tests that use the ``db`` fixture (one database per test;
    each example runs in a savepoint rolled back afterwards, see ``savepoint``)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class savepoint:  # noqa: N801 - used as a context manager, like a function
    """``with savepoint(db):`` runs one example in a savepoint and rolls it back."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.tx = self.db.session.begin_nested()
        return self

    def __exit__(self, *exc):
        self.tx.rollback()
        self.db.session.expunge_all()


class Raw(bytes):
    """A cell written as these exact bytes, unquoted."""


def render(records, *, delimiter=",", bom=False, newline="\r\n") -> bytes:
    """The CSV file of ``records`` (lists of str or Raw cells; [] is a blank line).

    With ``newline="\n"`` the csv module does not quote a cell holding a lone ``\r``, which
    then ends the record: strategies for such files leave ``\r`` out of the cells."""
    raws = {}
    rows = []
    for record in records:
        row = []
        for cell in record:
            if isinstance(cell, Raw):
                key = f"\ue000{len(raws)}\ue001"
                raws[key] = bytes(cell)
                cell = key
            row.append(cell)
        rows.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    data = buffer.getvalue().encode()
    for key, raw in raws.items():
        data = data.replace(key.encode(), raw)
    return (b"\xef\xbb\xbf" if bom else b"") + data


#: bytes no UTF-8 decoder accepts (a lone continuation byte, a truncated sequence, latin-1)
BAD_BYTES = st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\x80", b"caf\xe9", b"\xfe\xff"])
NOT_UTF8 = st.builds(
    lambda bad, text: Raw(text.encode() + bad), BAD_BYTES, st.sampled_from(["", "A", "12"])
)
#: a quoted cell with text after its closing quote: not CSV (the importers read strictly)
STRAY_QUOTE = st.sampled_from([Raw(b'"x"y'), Raw(b'"12" '), Raw(b'""a')])
FORMULAS = [
    "=1+2",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "=cmd|'/c calc'!A1",
]
NUL = st.builds(
    lambda a, b: f"{a}\x00{b}", st.sampled_from(["", "A", "12"]), st.sampled_from(["", "B", "3"])
)
CONTROL = st.sampled_from(["a\x07b", "\x1b[31m", "x\x08", "a\nb", "a\rb", "tab\there"])
#: numbers the importers must refuse whatever their column
BAD_NUMBERS = st.sampled_from(
    [
        "abc",
        "1,5",
        "12,34",
        "1.2.3",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1_000",
        "\u0661\u0662",  # Arabic-Indic digits: float() takes them
        "\uff11\uff12",  # full-width digits: float() takes them too
        "0x10",
        "--1",
        "1e",
        *FORMULAS,
    ]
)
BAD_DATES = st.sampled_from(
    [
        "2020-13-01",
        "2020-02-30",
        "2021-02-29",
        "01/02/2020",
        "2020-01-01x",
        "2020-01-01 25:00",
        "20-01-01",
        "tomorrow",
        "=TODAY()",
        "2020\u201301\u201301",  # en dashes
        "\u0662\u0660\u0662\u0660-01-01",
    ]
)
