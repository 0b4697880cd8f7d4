"""Search backends behind one interface: Whoosh (embedded, ``app.search.backend_whoosh``) and
PostgreSQL full-text (``app.search.backend_postgres``).

Both index the same ``SearchDoc`` fields and read queries the same way
(``app.search.text``): text folded to lower-case ASCII, identifiers matched on their
normalised form, and typos tolerated in every word of titles, names and bodies (the query
word is expanded to the indexed words within its edit allowance: Whoosh's lexicon, the
``search_term`` vocabulary on PostgreSQL). Both return ranked ``(record_type, record_id)`` pairs;
access filtering happens in ``app.search.service``, never here.
"""

import logging
from datetime import UTC, datetime

from app.search.text import fold, max_edits, query_tokens

__all__ = ["fold", "max_edits", "query_tokens"]  # older imports of these names still work
log = logging.getLogger("tollgate.search")


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


class SearchBackend:
    name = "base"

    def upsert(self, docs, *, fresh: bool = False) -> int:
        raise NotImplementedError

    def delete(self, keys) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def query(
        self, query: str, *, types, date_from=None, date_to=None, limit=2000
    ) -> list[tuple[str, int]]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def finish_rebuild(self) -> None:
        """Called after a full reindex (PostgreSQL rebuilds its index once, here)."""

    def abort_rebuild(self) -> None:
        """Called when a full reindex failed half-way."""
