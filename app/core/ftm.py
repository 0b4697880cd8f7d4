"""FollowTheMoney's model, imported without its side effect on the csv module.

Importing ``followthemoney`` raises the csv module's process-wide cell limit from 131,072 to
31,457,280 characters (``followthemoney/statement/serialize.py`` calls
``csv.field_size_limit``). The CSV importers (cases, risk, intel, reference) refuse an
oversized cell by that limit; once the exchange or a screening list had been used, a worker
would take cells of 30 MB. Every module that needs FtM imports it from here.
"""

import csv
from contextlib import contextmanager


@contextmanager
def without_csv_side_effect():
    """Import followthemoney's modules inside this block: the csv cell limit is put back."""
    limit = csv.field_size_limit()
    try:
        yield
    finally:
        csv.field_size_limit(limit)


with without_csv_side_effect():
    from followthemoney import model
    from followthemoney.exc import InvalidData
    from followthemoney.proxy import EntityProxy

__all__ = ["EntityProxy", "InvalidData", "model", "without_csv_side_effect"]
