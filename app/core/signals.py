"""Blinker signals through which domains talk without reading each other's tables.

Senders pass the acting user as ``actor`` (None for system jobs) plus the keyword
arguments documented below. Receivers must not commit: they run inside the sender's
transaction, so a failure rolls back the whole logical change.
"""

from blinker import Namespace

_signals = Namespace()

#: A sensitive risk profile fired. kwargs: declaration, profile, matched (list of str), actor
sensitive_profile_hit = _signals.signal("sensitive-profile-hit")
#: A control result was recorded (first or corrected). kwargs: declaration, result,
#: seizure_changed (a correction changed the seizure finding of a result with a seizure case),
#: reason, unit_ids (the office's unit, then the recorder's), actor
control_result_recorded = _signals.signal("control-result-recorded")
#: A control result found goods to seize and has no seizure case yet. kwargs: declaration,
#: result, declaration_ref (what the case is prefilled from), unit_ids, actor. A receiver
#: that opens the case returns its id (the risk domain keeps it on the result).
control_result_seizure = _signals.signal("control-result-seizure")
#: An entity was mentioned by a record. kwargs: entity_id, record_type, record_id, role, actor
entity_mentioned = _signals.signal("entity-mentioned")
#: A link between two entities was created. kwargs: link, actor
link_created = _signals.signal("link-created")
#: A task was assigned. kwargs: task, assignee, actor
task_assigned = _signals.signal("task-assigned")
#: A news article was stored. kwargs: article, actor
article_stored = _signals.signal("article-stored")
#: A record should be (re)indexed for search. kwargs: record_type, record_id
search_index_requested = _signals.signal("search-index-requested")
#: An edge of the news dependency network appeared or grew sharply between two periods.
#: kwargs: source, target ("category:canonical"), before, after (article counts),
#: period (date, date) of the newer period, article_id (the newest article behind the edge,
#: or None), actor
network_edge_grew = _signals.signal("network-edge-grew")
#: A case was assigned to someone (not a task: the case itself). kwargs: case, assignee, actor
case_assigned = _signals.signal("case-assigned")
#: An entity was registered (``app.intel.service.create_entity``, after its flush).
#: kwargs: entity, actor
entity_created = _signals.signal("entity-created")
#: A record's personal data was anonymised or the record deleted by a retention review
#: (``app.ops.retention.decide``), so other domains forget what they copied of it.
#: kwargs: record_type, record_id (str), decision ("anonymise" or "delete"), actor
record_forgotten = _signals.signal("record-forgotten")
#: A new registry entity matched an entry of an active screening list
#: (``app.screening.receivers``, after the hits' flush): the sanctions desk is alerted.
#: kwargs: hit (the best match, a ``ScreeningHit``), entity, name (what was screened),
#: actor
screening_entity_hit = _signals.signal("screening-entity-hit")
