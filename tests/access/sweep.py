"""The sentinel sweep's registry: how each route and each outbound message type is driven.

``ROUTES`` names every endpoint of the application (``app.url_map``), as the access matrix
does; ``test_sentinel_sweep.py`` fails for an endpoint without an entry. An entry is either
a list of requests (``get``/``post``/``api``) made as unit B and checked for unit A's
sentinels, or ``quiet("reason")`` for a route that carries no record label across units.

``MESSAGES`` names every outbound message type (``Delivery`` channel and kind, as queued by
``app/alerts``); the sweep fails for a type queued in the code and missing here, and for a
type listed here that the sweep world did not produce.

Who asks: ``get`` runs as every role of unit B (one user each) and as a unit-B user holding
every role; ``post`` runs as the all-roles user of unit B (it holds every permission a role
of B could use); ``api`` runs as a unit-B API client holding every scope.
"""

from dataclasses import dataclass

from tests.access.sweep_world import ALIAS, PUBLIC_NAME, WORD

BOGUS = 987654


@dataclass(frozen=True)
class Req:
    method: str = "GET"
    #: world -> URL values (a dict, or a list of dicts for several requests)
    values: object = None
    #: world -> query string dict
    query: object = None
    #: world -> form dict (HTML) or JSON body (API)
    data: object = None
    api: bool = False
    #: True: every role of unit B and the all-roles user; False: the all-roles user only
    every_role: bool = True
    #: the request touches alerts (app/alerts, issue 15 item 1)
    alerts: bool = False
    #: run as these roles of unit B only (None: as ``every_role`` says)
    roles: tuple | None = None
    #: a known leak left to the domain's owner: the reason; the sentinels of ``TOLERATED``
    #: are then reported but pass, any other sentinel fails
    known: str = ""


@dataclass(frozen=True)
class Quiet:
    reason: str


def get(values=None, query=None, *, alerts=False, roles=None, known=""):
    return Req("GET", values, query, alerts=alerts, roles=roles, known=known)


def post(values=None, data=None, *, alerts=False, query=None, roles=None):
    return Req("POST", values, query, data, every_role=False, alerts=alerts, roles=roles)


def api(method="GET", values=None, data=None, query=None, *, alerts=False):
    return Req(method, values, query, data, api=True, every_role=False, alerts=alerts)


def quiet(reason: str) -> Quiet:
    return Quiet(reason)


# --- URL values --------------------------------------------------------------------------------
def _case(w):
    ids = (w.case.id, w.b_case.id, w.b_dup.id, w.shared.id)
    return [{"case_id": i} for i in ids]


def _a_case(w):
    return {"case_id": w.case.id}


def _entities(w):
    ids = (w.sec.id, w.sec2.id, w.pub.id, w.b_entity.id, w.b_merged.id)
    return [{"entity_id": i} for i in ids]


def _alerts(w):
    return [{"alert_id": i} for i in w.b_alert_ids] or [{"alert_id": BOGUS}]


def _nodes(w):
    return [w.pub.id, w.sec.id, w.sec2.id, w.b_entity.id, w.b_merged.id]


def _screening_hit(w):
    """A screening hit on A's code-C declaration (party name a sentinel), made once."""
    if getattr(w, "screening_hit_id", None) is None:
        from app.extensions import db
        from app.screening.hits import ScreeningHit
        from tests.access.sweep_world import s

        hit = ScreeningHit(
            subject_type="declaration",
            subject_id=w.declaration.id,
            role="importer",
            party_key="party:sweep",
            party_version="v1",
            party={"name": s("hit party"), "kind": None, "country": None,
                   "identifiers": [s("hit identifier")], "birth_date": None},
            list_id=1,
            list_name="Sweep list",
            list_version="2026-12-01",
            sensitivity="P",
            entry_id="sweep-1",
            entry_caption="Sweep entry",
            entry_version_key="1",
            score=0.9,
            threshold=0.7,
            reasons=["name tokens 2/2"],
            unit_id=w.unit_a.id,
            handling_code="C",
        )  # fmt: skip
        db.session.add(hit)
        db.session.commit()
        w.screening_hit_id = hit.id
    return {"hit_id": w.screening_hit_id}


def _search(q_key="q"):
    return lambda w: [{q_key: WORD}, {q_key: ALIAS}, {q_key: PUBLIC_NAME}]


_RATINGS = (
    "trader ratings are computed over every unit's declarations and list the trader codes "
    "of code-C declarations (app/audit, left to its owner)"
)
#: the sentinels a ``known`` entry tolerates: trader codes of A's code-C declaration
TOLERATED = {"SNTLQXDECLDECLARANT", "SNTLQXDECLSELLER"}
_TRAIL_ROLES = ("supervisor", "administrator")
_STATIC = "static files: no record data"
_ADMIN = "administration of users, units, clients: no record labels"
_NEWS_ADMIN = "news feed/term administration: feed URLs and term lists, no unit's records"
_RISK_ADMIN = "risk configuration (profiles, lists, settings): no declaration's text"
_REFERENCE = "reference lists (codes and their labels): no record data"
_SCREENING = "screening-list administration: published list entries, no record of a unit"
_MODEL = "risk-model administration: metrics and parameters, no record text"

ROUTES = {
    # --- alerts -----------------------------------------------------------------------------
    "alerts.inbox": [
        get(alerts=True),
        get(query=lambda w: {"status": "all"}, alerts=True),
        get(query=lambda w: {"status": "all", "group": "source"}, alerts=True),
        get(query=lambda w: {"status": "all", "group": "subject"}, alerts=True),
    ],
    "alerts.detail": [get(_alerts, alerts=True)],
    "alerts.state": [get(alerts=True)],
    "alerts.supervise": [get(alerts=True)],
    "alerts.export_figures": [post(data=lambda w: {"justification": "sweep"}, alerts=True)],
    "alerts.figure_alerts": [
        get(query=lambda w: {"open": "1"}, alerts=True),
        get(query=lambda w: {"days": "365"}, alerts=True),
        get(query=lambda w: {"escalated": "1", "days": "365"}, alerts=True),
    ],
    "alerts.watches": [get(alerts=True)],
    "alerts.settings": [get(alerts=True)],
    "alerts.acknowledge": [post(_alerts, lambda w: {"note": "seen"}, alerts=True)],
    "alerts.action": [post(_alerts, lambda w: {"note": "done"}, alerts=True)],
    "alerts.feedback": [post(_alerts, lambda w: {"useful": "yes"}, alerts=True)],
    "alerts.create_case": [
        post(_alerts, lambda w: {"kind": "offence", "title": "From alert"}, alerts=True)
    ],
    "alerts.attach_case": [post(_alerts, lambda w: {"case": w.case.reference}, alerts=True)],
    "alerts.close": [post(_alerts, lambda w: {"note": "closed"}, alerts=True)],
    "alerts.assign": [
        post(
            _alerts,
            lambda w: {"user_id": w.b_users["enforcement_officer"].id, "note": "sweep"},
            alerts=True,
        )
    ],
    "alerts.escalate": [post(_alerts, lambda w: {"reason": "sweep"}, alerts=True)],
    "alerts.bulk_acknowledge": [post(data=lambda w: {"alert_ids": w.b_alert_ids}, alerts=True)],
    "alerts.watch_entity": [
        post(data=lambda w: {"entity_id": w.sec.id, "severity": "low"}, alerts=True),
        post(data=lambda w: {"entity_id": w.pub.id, "severity": "low"}, alerts=True),
    ],
    "alerts.watch_term": [post(data=lambda w: {"term": WORD, "severity": "low"}, alerts=True)],
    "alerts.save_search": [
        post(data=lambda w: {"name": "sweep", "query": WORD, "severity": "low"}, alerts=True)
    ],
    "alerts.remove_watch": [post(lambda w: {"watch_id": BOGUS}, alerts=True)],
    "alerts.remove_search": [post(lambda w: {"search_id": BOGUS}, alerts=True)],
    "alerts.remove_webhook": [post(lambda w: {"webhook_id": BOGUS}, alerts=True)],
    "alerts.add_webhook": [quiet("the unit's own webhook endpoint: a name and a URL")],
    "alerts_api.list_alerts": [api(alerts=True)],
    "alerts_api.get_alert": [api("GET", _alerts, alerts=True)],
    "alerts_api.acknowledge_alert": [api("POST", _alerts, {}, alerts=True)],
    "alerts_api.close_alert": [api("POST", _alerts, {}, alerts=True)],
    "alerts_api.assign_alert": [
        api(
            "POST",
            _alerts,
            lambda w: {"user_id": w.b_users["enforcement_officer"].id, "note": "sweep"},
            alerts=True,
        )
    ],
    "alerts_api.escalate_alert": [api("POST", _alerts, lambda w: {"reason": "sweep"}, alerts=True)],
    "alerts_api.list_watches": [api(alerts=True)],
    "alerts_api.create_watch": [
        api(
            "POST",
            data=lambda w: [
                {"kind": "entity", "entity_id": e, "recipients": {"units": [w.unit_b.id]}}
                for e in (w.sec.id, w.pub.id)
            ],
            alerts=True,
        ),
    ],
    "alerts_api.delete_watch": [api("DELETE", lambda w: {"watch_id": BOGUS}, alerts=True)],
    "alerts_api.list_saved_searches": [api(alerts=True)],
    "alerts_api.create_saved_search": [
        api(
            "POST",
            data=lambda w: {
                "name": "sweep api",
                "query": WORD,
                "recipients": {"units": [w.unit_b.id]},
            },
            alerts=True,
        )
    ],
    "alerts_api.delete_saved_search": [api("DELETE", lambda w: {"search_id": BOGUS}, alerts=True)],
    # --- audit ------------------------------------------------------------------------------
    "audit.ratings": [get()],
    "audit.entity_rating": [get(_entities)],
    "audit.trader": [get(lambda w: {"role": "importer", "code": "DE112233445566"})],
    "audit.selection_new": [get()],
    "audit.selection_view": [get(lambda w: {"selection_id": BOGUS})],
    "audit.selection_confirm": [post(lambda w: {"selection_id": BOGUS})],
    "audit.audit_cases": [get()],
    "audit.audit_case": [get(_case)],
    "audit.record_debt": [post(_a_case, lambda w: {})],
    "audit.recompute": [quiet("starts the ratings job; answers a redirect, no record text")],
    "audit.settings_update": [quiet(_MODEL)],
    "audit.models": [quiet(_MODEL)],
    "audit.model_view": [quiet(_MODEL)],
    "audit.model_train": [quiet(_MODEL)],
    "audit.model_activate": [quiet(_MODEL)],
    "audit.model_rollback": [quiet(_MODEL)],
    # --- cases ------------------------------------------------------------------------------
    "cases.index": [get(), get(query=lambda w: {"q": WORD})],
    "cases.seizures": [
        get(),
        get(query=lambda w: {"q": WORD}),
        # the statistics drill-downs: a figure's filters select only what the reader may open
        get(query=lambda w: {"area": "tobacco", "place_is": "BCP Merdare"}),
        get(query=lambda w: {"decision": "pending"}),
    ],
    "cases.seizure_map": [get(), get(query=lambda w: {"q": WORD})],
    "cases.offences": [get()],
    "cases.audits": [get()],
    "cases.statistics": [get()],
    "cases.export_statistics": [post(data=lambda w: {"justification": "sweep"})],
    "cases.export": [post(data=lambda w: {"justification": "sweep"})],
    "cases.new_seizure": [get()],
    "cases.new_case": [get(lambda w: {"kind": "offence"})],
    "cases.detail": [get(_case)],
    "cases.edit": [get(_case)],
    "cases.status": [post(_a_case, lambda w: {"status": "investigation"})],
    "cases.assign": [post(_a_case, lambda w: {"assignee_id": w.b_all.id})],
    "cases.decide": [post(_a_case, lambda w: {"decision_type": "warning"})],
    "cases.checklist": [post(_a_case, lambda w: {"done": ["x"]})],
    "cases.add_item": [post(_a_case, lambda w: {"item-description": "x"})],
    "cases.add_journal": [post(_a_case, lambda w: {"text": "sweep note"})],
    "cases.add_task": [post(_a_case, lambda w: {"title": "sweep task"})],
    "cases.task_status": [
        post(lambda w: {"case_id": w.case.id, "task_id": w.case.tasks[0].id}, lambda w: {})
    ],
    "cases.add_party": [
        post(_a_case, lambda w: {"party-role": "owner", "party-entity_id": w.pub.id}),
        post(
            lambda w: {"case_id": w.b_case.id},
            lambda w: {"party-role": "driver", "party-entity_id": w.sec.id},
        ),
    ],
    "cases.remove_party": [
        post(lambda w: {"case_id": w.case.id, "party_id": w.case.parties[0].id}, lambda w: {})
    ],
    "cases.upload_evidence": [post(_a_case, lambda w: {"description": "x"})],
    "cases.download_evidence": [
        get(lambda w: {"case_id": w.case.id, "evidence_id": w.evidence.id})
    ],
    "cases.add_link": [
        post(
            lambda w: {"case_id": w.b_case.id},
            lambda w: {"target_type": "case", "target_id": w.case.reference},
        ),
        post(
            lambda w: {"case_id": w.b_case.id},
            lambda w: {"target_type": "declaration", "target_id": str(w.declaration.id)},
        ),
    ],
    "cases.merge": [
        post(
            lambda w: {"case_id": w.b_case.id},
            lambda w: {"duplicate": w.case.reference, "confirm": "y"},
        ),
        post(_a_case, lambda w: {"duplicate": w.b_case.reference, "confirm": "y"}),
    ],
    "cases.correct_decision": [post(_a_case, lambda w: {"decision_type": "warning"})],
    # PDF answers are read as text (pypdf)
    "cases.case_file_pdf": [post(_case, lambda w: {"file-justification": "sweep"})],
    "cases.referral_pdf": [post(_case, lambda w: {"referral-justification": "sweep"})],
    "cases.import_upload": [get()],
    "cases.import_run": [quiet("runs an import of the user's own uploaded file")],
    "cases_api.list_cases": [api(), api(query=lambda w: {"q": WORD})],
    "cases_api.get_case": [api("GET", _case)],
    "cases_api.update_case": [api("PATCH", _a_case, lambda w: {"summary": "x"})],
    "cases_api.add_items": [
        api(
            "POST",
            _a_case,
            lambda w: {"items": [{"commodity_area": "drugs", "description": "x"}]},
        )
    ],
    "cases_api.add_journal": [api("POST", _a_case, lambda w: {"text": "x"})],
    "cases_api.add_party": [
        api("POST", _a_case, lambda w: {"role": "owner", "entity_id": w.pub.id}),
        api(
            "POST",
            lambda w: {"case_id": w.b_case.id},
            lambda w: {"role": "driver", "entity_id": w.sec.id},
        ),
    ],
    "cases_api.create_case": [
        api("POST", data=lambda w: {"kind": "seizure", "title": "API sweep case"})
    ],
    # --- core -------------------------------------------------------------------------------
    # the home page carries the alerts panel (titles of the user's newest alerts) and the
    # audit panel (newest trader ratings)
    "core.home": [get(alerts=True)],
    "core.health": [quiet("health check: no record data")],
    "core.openapi_json": [quiet("the API description: no record data")],
    "static": [quiet(_STATIC)],
    # --- intelligence -----------------------------------------------------------------------
    "intel.entity_lookup": [get(query=_search())],
    "intel.record_lookup": [
        get(query=lambda w: [{"type": t, "q": WORD} for t in ("case", "report", "declaration")])
    ],
    "intel.entities": [get(), get(query=_search())],
    "intel.entity_new": [get()],
    "intel.entity_detail": [get(_entities)],
    "intel.entity_edit": [get(_entities)],
    "intel.entity_watch": [post(_entities, lambda w: {})],
    "intel.link_edit": [quiet("redirects with a fixed message ('Link corrected.')")],
    "intel.link_add": [
        post(
            lambda w: {"entity_id": w.b_entity.id},
            lambda w: {"target_id": w.sec.id, "link_type": "owns", "direction": "out"},
        ),
        post(
            lambda w: {"entity_id": w.pub.id},
            lambda w: {"target_id": w.b_entity.id, "link_type": "owns", "direction": "out"},
        ),
    ],
    "intel.merge_undo": [post(lambda w: {"merge_id": w.merge_in.id})],
    "intel.entity_candidates_refresh": [post(_entities)],
    "intel.import_csv": [get()],
    "intel.reports_list": [get(), get(query=_search())],
    "intel.report_detail": [get(lambda w: {"report_id": w.report.id})],
    "intel.report_edit": [get(lambda w: {"report_id": w.report.id})],
    "intel.report_new": [get()],
    "intel.review_queue": [get()],
    "intel.report_review": [
        post(lambda w: {"report_id": w.report.id}, lambda w: {"outcome": "retain"})
    ],
    "intel.report_disseminate": [
        post(
            lambda w: {"report_id": w.report.id},
            lambda w: {"recipient": "x", "purpose": "y", "version": "full"},
        )
    ],
    "intel.resolution_queue": [get(), get(query=lambda w: {"judgement": "unsure"})],
    "intel.resolution_decide": [
        post(
            data=lambda w: {
                "entity_a": w.b_entity.id,
                "entity_b": w.sec.id,
                "judgement": "merge",
                "survivor": w.b_entity.id,
            }
        ),
        post(
            data=lambda w: {
                "entity_a": w.b_entity.id,
                "entity_b": w.sec.id,
                "judgement": "not_same",
            }
        ),
    ],
    "intel.chart": [get(query=lambda w: [{"entity": w.pub.id}, {"chart": w.a_chart.id}])],
    "intel.chart_load": [get(lambda w: [{"chart_id": w.a_chart.id}, {"chart_id": w.b_chart.id}])],
    "intel.graph_expand": [get(query=lambda w: [{"entity": w.pub.id}, {"entity": w.b_entity.id}])],
    "intel.graph_path": [
        get(
            query=lambda w: [
                {"from": w.pub.id, "to": w.sec.id},
                {"from": w.pub.id, "to": w.sec2.id},
                {"from": w.b_entity.id, "to": w.pub.id},
            ]
        )
    ],
    "intel.graph_analyse": [post(data=lambda w: {"nodes": ",".join(map(str, _nodes(w)))})],
    "intel.graph_timeline": [post(data=lambda w: {"nodes": ",".join(map(str, _nodes(w)))})],
    "intel.graph_export": [
        post(
            data=lambda w: [
                {"nodes": ",".join(map(str, _nodes(w))), "format": f, "justification": "sweep"}
                for f in ("graphml", "gexf")
            ]
        )
    ],
    "intel.graph_save": [
        post(
            data=lambda w: {
                "case_id": w.b_case.id,
                "title": "sweep chart",
                "nodes": ",".join(map(str, _nodes(w))),
            }
        )
    ],
    # --- exchange (FtM, STIX): B's exports of A's records carry nothing of them -------------
    "exchange.entity_ftm": [post(_entities, lambda w: {"justification": "sweep"})],
    "exchange.chart_ftm": [
        post(data=lambda w: {"nodes": ",".join(map(str, _nodes(w))), "justification": "sweep"})
    ],
    "exchange_api.ftm_export_api": [
        api("POST", data=lambda w: {"entity_ids": _nodes(w), "justification": "sweep"}),
        api(
            "POST",
            data=lambda w: [{"entity_id": i, "justification": "sweep"} for i in _nodes(w)],
        ),
    ],
    "exchange.report_stix": [
        post(lambda w: {"report_id": w.report.id}, lambda w: {"justification": "sweep"})
    ],
    "exchange_api.report_stix_api": [
        api("POST", lambda w: {"report_id": w.report.id}, lambda w: {"justification": "sweep"})
    ],
    "intel_api.entities_list": [api(), api(query=_search())],
    "intel_api.entity_get": [api("GET", _entities)],
    "intel_api.links_create": [
        api(
            "POST",
            data=lambda w: {
                "source_id": w.b_entity.id,
                "target_id": w.sec.id,
                "link_type": "owns",
            },
        )
    ],
    "intel_api.reports_list": [api(), api(query=_search())],
    "intel_api.report_get": [api("GET", lambda w: {"report_id": w.report.id})],
    "intel_api.link_update": [
        api(
            "PATCH",
            lambda w: {"link_id": w.link_c.id},
            lambda w: {"reason": "sweep", "grade": "1A"},
        )
    ],
    "intel_api.report_update": [
        api(
            "PATCH",
            lambda w: {"report_id": w.report.id},
            lambda w: {"reason": "sweep", "title": "x"},
        )
    ],
    "intel_api.entities_create": [
        api(
            "POST",
            data=lambda w: {
                "type": "person",
                "name": "Api Person",
                "identifiers": {"passport": "K7654321"},
            },
        )
    ],
    "intel_api.reports_create": [
        api(
            "POST",
            data=lambda w: {
                "title": "Api report",
                "body": "text",
                "source_grade": "2",
                "intel_grade": "B",
                "entity_ids": [w.pub.id],
            },
        )
    ],
    # --- operations -------------------------------------------------------------------------
    "ops.retention_page": [get()],
    "ops.decide": [post(lambda w: {"item_id": BOGUS}, lambda w: {"decision": "keep"})],
    # --- risk -------------------------------------------------------------------------------
    "risk.declarations": [
        get(),
        get(query=lambda w: {"q": "DE112233445566"}),
        # the KPI drill-downs: a figure's filters select only what the reader may open
        get(query=lambda w: {"selected": "1", "inspected": "1", "result": "found"}),
        get(query=lambda w: {"profile": "1", "hit_from": "2000-01-01", "hit_to": "2100-01-01"}),
    ],
    "risk.declaration_detail": [get(lambda w: {"declaration_id": w.declaration.id})],
    "risk.declaration_control": [get(lambda w: {"declaration_id": w.declaration.id})],
    "risk.declaration_raise": [
        post(lambda w: {"declaration_id": w.declaration.id}, lambda w: {"reason": "x"})
    ],
    "risk.kpis_page": [get()],
    "risk.export_kpis": [post(data=lambda w: {"justification": "sweep"})],
    "risk.raises": [get()],
    "risk.raise_decide": [post(lambda w: {"raise_id": BOGUS}, lambda w: {"decision": "approve"})],
    "risk.profiles_list": [get()],
    "risk.profile_detail": [get(lambda w: {"profile_id": w.profile.id})],
    "risk.profile_edit": [get(lambda w: {"profile_id": w.profile.id})],
    "risk.profile_preview": [
        post(
            data=lambda w: {
                "conditions_json": '{"join": "and", "conditions": [{"field": "hs_code", '
                '"op": "prefix", "value": ["8517"]}]}'
            }
        )
    ],
    "risk.profile_simulate": [post(lambda w: {"profile_id": w.profile.id}, lambda w: {})],
    "risk.simulation_page": [get()],
    "risk.import_page": [get()],
    "risk.profile_new": [quiet(_RISK_ADMIN)],
    "risk.profile_version": [quiet(_RISK_ADMIN)],
    "risk.profile_restore": [quiet(_RISK_ADMIN)],
    "risk.profile_activate": [quiet(_RISK_ADMIN)],
    "risk.profile_discard_draft": [quiet(_RISK_ADMIN)],
    "reference.index": [quiet(_REFERENCE)],
    "reference.list_page": [quiet(_REFERENCE)],
    "reference.add": [quiet(_REFERENCE)],
    "reference.edit": [quiet(_REFERENCE)],
    "reference.set_active": [quiet(_REFERENCE)],
    "reference.load": [quiet(_REFERENCE)],
    "screening.index": [quiet(_SCREENING)],
    "screening.list_page": [quiet(_SCREENING)],
    "screening.load": [quiet(_SCREENING)],
    "screening.settings": [quiet(_SCREENING)],
    "screening.version_page": [quiet(_SCREENING)],
    "screening_hits.hits": [
        get(query=lambda w: (_screening_hit(w), [{"status": "all"}, {"status": "open"}])[1])
    ],
    "screening_hits.hit": [get(_screening_hit)],
    "screening_hits.judge": [post(_screening_hit, lambda w: {"verdict": "unsure"})],
    "screening_hits_api.api_hits": [
        api("GET", query=lambda w: (_screening_hit(w), {"status": "all"})[1])
    ],
    "screening_hits_api.api_hit": [api("GET", _screening_hit)],
    "screening_hits_api.api_judge": [api("POST", _screening_hit, lambda w: {"verdict": "unsure"})],
    "risk.profile_status": [quiet(_RISK_ADMIN)],
    "risk.lists": [quiet(_RISK_ADMIN)],
    "risk.list_save": [quiet(_RISK_ADMIN)],
    "risk.settings_page": [quiet(_RISK_ADMIN)],
    "risk.settings_save": [quiet(_RISK_ADMIN)],
    "risk.editor_catalog": [quiet("the profile editor's field catalogue: no record data")],
    "risk_api.get_declaration": [api("GET", lambda w: {"number": str(w.declaration.id)})],
    "risk_api.control_result": [
        api("POST", lambda w: {"number": str(w.declaration.id)}, lambda w: {"result": "ok"})
    ],
    "risk_api.submit": [quiet("stores the client's own declaration; answers its assessment")],
    # --- search -----------------------------------------------------------------------------
    "search.search_page": [get(query=_search())],
    "search_api.search": [api(query=_search())],
    # --- security ---------------------------------------------------------------------------
    # The data-protection officer reads every unit's trail by design (trail.view_all, each
    # read trailed): the sweep reads the trail as the roles that read their own unit's only.
    "security.trail": [
        get(roles=_TRAIL_ROLES),
        get(query=lambda w: {"unit": w.unit_a.id}, roles=_TRAIL_ROLES),
    ],
    "security.trail_export": [post(data=lambda w: {"justification": "sweep"}, roles=_TRAIL_ROLES)],
    "security.login": [quiet("sign-in form: names no record")],
    "security.logout": [quiet("sign-out: answers a redirect")],
    "security.admin_users": [quiet(_ADMIN)],
    "security.admin_user_new": [quiet(_ADMIN)],
    "security.admin_user_edit": [quiet(_ADMIN)],
    "security.admin_user_unlock": [quiet(_ADMIN)],
    "security.admin_unit_new": [quiet(_ADMIN)],
    "security.admin_clients": [quiet(_ADMIN)],
    "security.admin_client_revoke": [quiet(_ADMIN)],
    # --- shares -----------------------------------------------------------------------------
    "shares.share_create": [
        post(
            lambda w: {"record_type": "case", "record_id": w.case.id},
            lambda w: {"unit_id": w.unit_b.id, "reason": "sweep"},
        )
    ],
    "shares.share_revoke": [post(lambda w: {"share_id": BOGUS})],
    "shares_api.shares_list": [api()],
    "shares_api.share_get": [api("GET", lambda w: {"share_id": BOGUS})],
    "shares_api.shares_create": [
        api(
            "POST",
            data=lambda w: {
                "record_type": "case",
                "record_id": w.case.id,
                "unit_id": w.unit_b.id,
                "reason": "sweep",
            },
        )
    ],
    "shares_api.share_revoke": [api("DELETE", lambda w: {"share_id": BOGUS})],
    # --- news -------------------------------------------------------------------------------
    "textmining.articles": [get(), get(query=lambda w: {"q": WORD})],
    "textmining.article": [get(lambda w: {"article_id": w.news.id})],
    "textmining.feed": [get(lambda w: {"feed_id": w.feed.id})],
    "textmining.feeds": [get()],
    "textmining.network": [get()],
    "textmining.network_data": [get()],
    "textmining.network_compare": [get()],
    "textmining.network_export": [get()],
    "textmining.edge_articles": [
        get(query=lambda w: {"source": w.news_edge[0], "target": w.news_edge[-1]})
    ],
    "textmining.workbench": [get()],
    "textmining.terms": [get()],
    "textmining.feed_edit": [quiet(_NEWS_ADMIN)],
    "textmining.feed_new": [quiet(_NEWS_ADMIN)],
    "textmining.feed_pause": [quiet(_NEWS_ADMIN)],
    "textmining.feed_resume": [quiet(_NEWS_ADMIN)],
    "textmining.feed_test": [quiet(_NEWS_ADMIN)],
    "textmining.host_add": [quiet(_NEWS_ADMIN)],
    "textmining.host_delete": [quiet(_NEWS_ADMIN)],
    "textmining.term_edit": [quiet(_NEWS_ADMIN)],
    "textmining.term_new": [quiet(_NEWS_ADMIN)],
    "textmining.terms_reextract": [quiet(_NEWS_ADMIN)],
    "textmining.terms_seed": [quiet(_NEWS_ADMIN)],
    "textmining.workbench_decide": [quiet("confirms a name in the news: answers a redirect")],
    "textmining.workbench_dismiss_many": [quiet("dismisses names in the news: a redirect")],
    "textmining.workbench_undo": [quiet("undoes a workbench decision: answers a redirect")],
}

#: endpoints whose entries are written before their routes land (work in progress on another
#: branch); empty on main: every entry above names a route of the app
IN_FLIGHT: set[str] = set()

#: (channel, kind) of every outbound message (``app.alerts.models.Delivery``)
MESSAGES = {
    ("email", "alert"): "an alert's e-mail to one recipient (routing.email_text)",
    ("email", "escalation"): "an overdue alert's e-mail to the recipient's supervisor",
    ("email", "digest"): "the daily/weekly digest e-mail (tasks.queue_digests)",
    ("webhook", "alert"): "an alert posted to the unit's webhook (routing.webhook_document)",
}
