"""JSON API: list, read, acknowledge and close alerts; manage watches and saved searches."""

from flask import Blueprint, g, jsonify, request

from app.alerts import service, supervision, watches
from app.alerts.models import SEVERITIES, STATUSES
from app.alerts.text import alert_text
from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, page_parameters
from app.core.pagination import paginate
from app.core.time import as_utc
from app.extensions import csrf

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _dt(value):
    return as_utc(value).isoformat() if value else None


def alert_json(alert, reader) -> dict:
    """The alert for ``reader``: records named only as the reader may read them."""
    text = alert_text(reader, alert)
    return {
        "id": alert.id,
        "title": text.title,
        "severity": alert.severity,
        "status": alert.status,
        "count": alert.count,
        "source": {"kind": alert.source_kind, "id": alert.source_id, "label": text.source},
        "subject": {
            "type": alert.subject_type,
            "id": alert.subject_id,
            "label": text.subject,
        },
        "reasons": text.reasons,
        "instructions": alert.instructions,
        "created": _dt(alert.created_dt),
        "last_fired": _dt(alert.last_fired_dt),
        "deadline": _dt(alert.deadline_dt),
        "escalation_level": alert.escalation_level,
        "acknowledged": _dt(alert.acknowledged_dt),
        "acknowledged_by": alert.acknowledged_by,
        "closed": _dt(alert.closed_dt),
        "closed_by": alert.closed_by,
        "case_id": alert.case_id,
        "useful": alert.is_useful,
    }


def watch_json(watch) -> dict:
    return {
        "id": watch.id,
        "kind": watch.kind,
        "entity_id": watch.entity_id,
        "term": watch.term,
        "label": watch.label,
        "severity": watch.severity,
        "recipients": watch.recipients or {},
        "created": _dt(watch.created_dt),
    }


def saved_search_json(saved) -> dict:
    return {
        "id": saved.id,
        "name": saved.name,
        "query": saved.query,
        "record_types": saved.record_types or [],
        "severity": saved.severity,
        "recipients": saved.recipients or {},
        "last_run": _dt(saved.last_run_dt),
        "last_notified": _dt(saved.last_notified_dt),
        "created": _dt(saved.created_dt),
    }


def _note(body):
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise ValidationError({"note": "must be a string"})
    return note


@bp.get("/alerts")
@require_scope("alerts:read")
def list_alerts():
    stmt = service.inbox_query(
        g.actor,
        status=request.args.get("status", "open"),
        severity=request.args.get("severity") or None,
        source_kind=request.args.get("source") or None,
    )
    page = paginate(stmt, request.args, strict=True)
    return jsonify(
        items=[alert_json(a, g.actor) for a in page.items],
        total=page.total,
        page=page.page,
        per_page=page.per_page,
    )


@bp.get("/alerts/<int:alert_id>")
@require_scope("alerts:read")
def get_alert(alert_id):
    return jsonify(alert_json(service.get_alert(g.actor, alert_id), g.actor))


@bp.post("/alerts/<int:alert_id>/acknowledge")
@require_scope("alerts:write")
def acknowledge_alert(alert_id):
    body = json_body() if request.get_data() else {}
    return jsonify(alert_json(service.acknowledge(g.actor, alert_id, _note(body)), g.actor))


@bp.post("/alerts/<int:alert_id>/close")
@require_scope("alerts:write")
def close_alert(alert_id):
    body = json_body() if request.get_data() else {}
    return jsonify(alert_json(service.close(g.actor, alert_id, _note(body)), g.actor))


@bp.post("/alerts/<int:alert_id>/assign")
@require_scope("alerts:write")
def assign_alert(alert_id):
    body = json_body()
    user_id = body.get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ValidationError({"user_id": "must be the id of an officer of your unit"})
    alert = supervision.assign(g.actor, alert_id, user_id, _note(body))
    return jsonify(alert_json(alert, g.actor))


@bp.post("/alerts/<int:alert_id>/escalate")
@require_scope("alerts:write")
def escalate_alert(alert_id):
    body = json_body()
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({"reason": "must be a string"})
    return jsonify(alert_json(supervision.escalate(g.actor, alert_id, reason), g.actor))


@bp.get("/watches")
@require_scope("alerts:read")
def list_watches():
    return jsonify(items=[watch_json(w) for w in watches.list_watches(g.actor)])


@bp.post("/watches")
@require_scope("alerts:write")
def create_watch():
    body = json_body()
    kind = body.get("kind")
    severity = body.get("severity", "medium")
    if kind == "entity":
        watch = watches.watch_entity(
            g.actor, body.get("entity_id"), severity=severity, recipients=body.get("recipients")
        )
    elif kind == "term":
        watch = watches.watch_term(
            g.actor, body.get("term"), severity=severity, recipients=body.get("recipients")
        )
    else:
        raise ValidationError({"kind": "must be entity or term"})
    return jsonify(watch_json(watch)), 201


@bp.delete("/watches/<int:watch_id>")
@require_scope("alerts:write")
def delete_watch(watch_id):
    watches.remove_watch(g.actor, watch_id)
    return "", 204


@bp.get("/saved-searches")
@require_scope("alerts:read")
def list_saved_searches():
    return jsonify(items=[saved_search_json(s) for s in watches.list_saved_searches(g.actor)])


@bp.post("/saved-searches")
@require_scope("alerts:write")
def create_saved_search():
    body = json_body()
    saved = watches.save_search(
        g.actor,
        name=body.get("name"),
        query=body.get("query"),
        record_types=body.get("record_types"),
        severity=body.get("severity", "low"),
        recipients=body.get("recipients"),
    )
    return jsonify(saved_search_json(saved)), 201


@bp.delete("/saved-searches/<int:search_id>")
@require_scope("alerts:write")
def delete_saved_search(search_id):
    watches.remove_saved_search(g.actor, search_id)
    return "", 204


# --- OpenAPI --------------------------------------------------------------------------------


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    return {c: ERROR_RESPONSES[c] for c in codes}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_NOTE_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"note": {"type": "string", "maxLength": 2000}},
            }
        }
    },
}
_RECIPIENTS = {
    "type": "object",
    "description": (
        "Who else is alerted, all in the client's own unit (another unit's user or unit: 422 "
        "naming the entry; roles are the unit's people holding them); need-to-know still "
        "applies to each"
    ),
    "properties": {
        "users": {"type": "array", "items": {"type": "integer"}},
        "units": {"type": "array", "items": {"type": ["integer", "string"]}},
        "roles": {"type": "array", "items": {"type": "string"}},
    },
}

OPENAPI_SCHEMAS = {
    "Alert": {
        "type": "object",
        "required": ["id", "title", "severity", "status", "source", "subject"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "severity": {"enum": list(SEVERITIES)},
            "status": {"enum": list(STATUSES)},
            "count": {"type": "integer", "description": "times fired inside the fold window"},
            "source": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string"},
                    "id": {"type": ["integer", "null"]},
                    "label": {"type": "string"},
                },
            },
            "subject": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "id": {"type": "integer"},
                    "label": {"type": "string"},
                },
            },
            "reasons": {"type": "array", "items": {"type": "string"}},
            "instructions": {"type": ["string", "null"]},
            "created": {"type": "string", "format": "date-time"},
            "last_fired": {"type": "string", "format": "date-time"},
            "deadline": {"type": "string", "format": "date-time"},
            "escalation_level": {"type": "integer"},
            "acknowledged": {"type": ["string", "null"], "format": "date-time"},
            "acknowledged_by": {"type": ["string", "null"]},
            "closed": {"type": ["string", "null"], "format": "date-time"},
            "closed_by": {"type": ["string", "null"]},
            "case_id": {"type": ["integer", "null"]},
            "useful": {"type": ["boolean", "null"]},
        },
    },
    "Watch": {
        "type": "object",
        "required": ["id", "kind", "label", "severity"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": ["entity", "term"]},
            "entity_id": {"type": ["integer", "null"]},
            "term": {"type": ["string", "null"]},
            "label": {"type": "string"},
            "severity": {"enum": list(SEVERITIES)},
            "recipients": _RECIPIENTS,
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "WatchInput": {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"enum": ["entity", "term"]},
            "entity_id": {"type": "integer"},
            "term": {"type": "string", "minLength": 3, "maxLength": 200},
            "severity": {"enum": list(SEVERITIES)},
            "recipients": _RECIPIENTS,
        },
    },
    "SavedSearch": {
        "type": "object",
        "required": ["id", "name", "query"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "query": {"type": "string"},
            "record_types": {"type": "array", "items": {"type": "string"}},
            "severity": {"enum": list(SEVERITIES)},
            "recipients": _RECIPIENTS,
            "last_run": {"type": ["string", "null"], "format": "date-time"},
            "last_notified": {"type": ["string", "null"], "format": "date-time"},
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "SavedSearchInput": {
        "type": "object",
        "required": ["name", "query"],
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "query": {"type": "string", "minLength": 2, "maxLength": 500},
            "record_types": {"type": "array", "items": {"type": "string"}},
            "severity": {"enum": list(SEVERITIES)},
            "recipients": _RECIPIENTS,
        },
    },
}

_LIST = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {"type": "array", "items": _ref("Alert")},
        "total": {"type": "integer"},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    },
}

OPENAPI_PATHS = {
    "/api/v1/alerts": {
        "get": {
            "summary": "List alerts received in the client's unit",
            "tags": ["alerts"],
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": ["open", "all", *STATUSES], "default": "open"},
                },
                {"name": "severity", "in": "query", "schema": {"enum": list(SEVERITIES)}},
                {"name": "source", "in": "query", "schema": {"type": "string"}},
                *page_parameters(),
            ],
            "responses": {"200": _json(_LIST), **_errors("401", "403", "422")},
        }
    },
    "/api/v1/alerts/{id}": {
        "get": {
            "summary": "One alert",
            "tags": ["alerts"],
            "parameters": [_ID],
            "responses": {"200": _json(_ref("Alert")), **_errors("401", "403", "404")},
        }
    },
    "/api/v1/alerts/{id}/acknowledge": {
        "post": {
            "summary": "Acknowledge a new alert (stops escalation)",
            "tags": ["alerts"],
            "parameters": [_ID],
            "requestBody": _NOTE_BODY,
            "responses": {"200": _json(_ref("Alert")), **_errors("401", "403", "404", "422")},
        }
    },
    "/api/v1/alerts/{id}/close": {
        "post": {
            "summary": "Close an alert",
            "tags": ["alerts"],
            "parameters": [_ID],
            "requestBody": _NOTE_BODY,
            "responses": {"200": _json(_ref("Alert")), **_errors("401", "403", "404", "422")},
        }
    },
    "/api/v1/alerts/{id}/assign": {
        "post": {
            "summary": "Assign an open alert to an officer of the client's unit who may open "
            "its subject (it is put, unread, in their inbox)",
            "tags": ["alerts"],
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["user_id"],
                            "properties": {
                                "user_id": {"type": "integer"},
                                "note": {"type": "string"},
                            },
                        }
                    }
                },
            },
            "responses": {"200": _json(_ref("Alert")), **_errors("401", "403", "404", "422")},
        }
    },
    "/api/v1/alerts/{id}/escalate": {
        "post": {
            "summary": "Escalate an open alert by hand to the supervisors of the client's unit, "
            "saying why",
            "tags": ["alerts"],
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["reason"],
                            "properties": {"reason": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {"200": _json(_ref("Alert")), **_errors("401", "403", "404", "422")},
        }
    },
    "/api/v1/watches": {
        "get": {
            "summary": "Watches created by the unit's clients",
            "tags": ["alerts"],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": _ref("Watch")}},
                    }
                ),
                **_errors("401", "403"),
            },
        },
        "post": {
            "summary": "Watch an entity or a news term",
            "tags": ["alerts"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("WatchInput")}},
            },
            "responses": {
                "201": _json(_ref("Watch"), "Created"),
                **_errors("400", "401", "403", "422"),
            },
        },
    },
    "/api/v1/watches/{id}": {
        "delete": {
            "summary": "Stop a watch",
            "tags": ["alerts"],
            "parameters": [_ID],
            "responses": {"204": {"description": "Removed"}, **_errors("401", "403", "404")},
        }
    },
    "/api/v1/saved-searches": {
        "get": {
            "summary": "Saved searches created by the unit's clients",
            "tags": ["alerts"],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": _ref("SavedSearch")}},
                    }
                ),
                **_errors("401", "403"),
            },
        },
        "post": {
            "summary": "Save a search; new results raise alerts",
            "description": (
                "The search runs as the client, with its scopes and unit of the day: it needs "
                "search:read (403 without it) and stops matching if the scope is withdrawn."
            ),
            "tags": ["alerts"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SavedSearchInput")}},
            },
            "responses": {
                "201": _json(_ref("SavedSearch"), "Created"),
                **_errors("400", "401", "403", "422"),
            },
        },
    },
    "/api/v1/saved-searches/{id}": {
        "delete": {
            "summary": "Remove a saved search",
            "tags": ["alerts"],
            "parameters": [_ID],
            "responses": {"204": {"description": "Removed"}, **_errors("401", "403", "404")},
        }
    },
}
