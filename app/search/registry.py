"""What each domain offers to search: the contract between domains and app.search.

A domain registers a ``SearchSource`` in its ``init_app``; when a record changes it sends
``app.core.signals.search_index_requested`` (record_type, record_id) and the scheduler
process applies the queued index updates (Whoosh has a single writer).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SearchDoc:
    record_type: str  # "entity", "case", "report", "declaration", "article"
    record_id: int
    title: str
    body: str = ""
    #: names and identifiers that get typo-tolerant matching
    names: list[str] = field(default_factory=list)
    date: datetime | None = None
    unit_id: int | None = None
    handling_code: str = "P"
    #: extra facets, e.g. {"kind": "seizure"} or {"entity_type": "person"}
    facets: dict = field(default_factory=dict)
    #: (record_type, record_id, label) of other records the title or body names (a case's
    #: parties): a hit names them only to a reader who may open them (the seam rule)
    named: list = field(default_factory=list)


@dataclass
class SearchSource:
    record_type: str
    label: str
    #: permission a user needs to see this kind of record at all
    permission: str
    #: documents(ids or None for all) -> iterable of SearchDoc; missing ids are skipped
    documents: Callable[[list[int] | None], Iterable[SearchDoc]]
    #: visible_ids(actor, ids) -> the subset of ids the actor may open (need-to-know)
    visible_ids: Callable
    #: url(record_id) -> link to the record's page
    url: Callable[[int], str]


def add_search_source(app, source: SearchSource) -> None:
    app.extensions.setdefault("tollgate_search_sources", {})[source.record_type] = source


def search_sources(app) -> dict[str, SearchSource]:
    return app.extensions.get("tollgate_search_sources", {})
