"""JSON API for cases (/api/v1/cases): list, create, read, update, add items, parties and
journal entries, under the same services and access rules as the pages."""

from flask import Blueprint, g, jsonify, request, url_for
from sqlalchemy.orm import selectinload

from app.cases import catalog, queries, seizures, service
from app.cases import parties as case_parties
from app.cases.models import Case
from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, add_paths, cursor_parameters, page_parameters
from app.core.pagination import page_args
from app.extensions import csrf, db
from app.security import trail
from app.security.seams import label_for, redact_names

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases")
csrf.exempt(bp)


def _money(value):
    return None if value is None else str(value)


def case_json(case: Case, *, full=True) -> dict:
    data = {
        "id": case.id,
        "reference": case.reference,
        "kind": case.kind,
        "title": case.title,
        "status": case.status,
        "resolution": case.resolution,
        "priority": case.priority,
        "unit": case.unit.code if case.unit else None,
        "handling_code": case.handling_code,
        "event_dt": case.event_dt.isoformat() if case.event_dt else None,
        "opened_dt": case.opened_dt.isoformat(),
        "place": case.place,
        "commodity_area": case.commodity_area,
        "total_value": _money(case.total_value),
        "assignee_id": case.assignee_id,
        "merged_into_id": case.merged_into_id,
        "url": url_for("cases_api.get_case", case_id=case.id),
    }
    if not full:
        return data
    for name in service.EDITABLE_FIELDS:
        if name in data:
            continue
        value = getattr(case, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and name in ("evaded_duties", "penalty", "assessed_debt"):
            value = str(value)
        data[name] = value
    data.update(
        {
            "handling_conditions": case.handling_conditions,
            "decision_type": case.decision_type,
            "decided_by": case.decided_by_name,
            "decided_dt": case.decided_dt.isoformat() if case.decided_dt else None,
            "trader_entity_id": case.trader_entity_id,
            "checklist": case.checklist,
            "items": [item_json(i) for i in case.items],
            "parties": [party_json(p) for p in case.parties],
            "tasks": [
                {
                    "id": t.id,
                    "title": t.title,
                    "status": t.status,
                    "assignee_id": t.assignee_id,
                    "due_date": t.due_date.isoformat() if t.due_date else None,
                }
                for t in case.tasks
            ],
            "journal": [journal_json(j, _named(case)) for j in case.journal],
            "links": [
                {
                    "type": lk.target_type,
                    "id": lk.target_id,
                    "label": label_for(g.actor, lk.target_type, lk.target_id, lk.label),
                }
                for lk in case.links
            ],
            "evidence": [
                {
                    "id": e.id,
                    "name": e.original_name,
                    "content_type": e.content_type,
                    "size": e.size,
                    "sha256": e.sha256,
                }
                for e in case.evidence
            ],
        }
    )
    return data


def item_json(i) -> dict:
    return {
        "id": i.id,
        "position": i.position,
        "commodity_area": i.commodity_area,
        "hs_code": i.hs_code,
        "description": i.description,
        "quantity": None if i.quantity is None else str(i.quantity),
        "quantity_unit": i.quantity_unit,
        "value": _money(i.value),
    }


def party_json(p) -> dict:
    return {
        "id": p.id,
        "entity_id": p.entity_id,
        "role": p.role,
        "entity_type": p.entity_type,
        # the seam rule: a party the reader may not open is not named
        "name": label_for(g.actor, "entity", p.entity_id, p.entity_name),
    }


def _named(case) -> list:
    """The records a case's journal may name (its parties and links)."""
    return [("entity", p.entity_id, p.entity_name) for p in case.parties] + [
        (lk.target_type, lk.target_id, lk.label) for lk in case.links
    ]


def journal_json(j, named=()) -> dict:
    return {
        "id": j.id,
        "created_dt": j.created_dt.isoformat(),
        "author": j.author_name,
        "kind": j.kind,
        # the seam rule: a record the reader may not open is not named
        "text": redact_names(g.actor, j.text, named) if named else j.text,
    }


@bp.get("")
@require_scope("cases:read")
def list_cases():
    page_args(request.args, strict=True)  # 422 where the HTML list would clamp
    stmt = queries.case_query(g.actor, request.args)
    page = queries.paginate_cases(
        stmt.options(selectinload(Case.assignee)), request.args, strict=True
    )
    trail.record(g.actor, "search", "case", None, query=queries.describe_filters(request.args))
    return jsonify(
        {
            "items": [case_json(c, full=False) for c in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "total_is_exact": page.exact,
            # keyset paging: pass as ?after= (next page) or ?before= (previous page)
            "next_after": page.after if page.has_next else None,
            "prev_before": page.before if page.has_prev else None,
        }
    )


def _case_fields(body: dict, skip=()) -> dict:
    """The editable case fields of a body, named one by one: a service's own keyword
    arguments (status, opened_dt, journal_text, actor ...) are never reachable from JSON.
    ``json_body`` has already refused any key the operation's schema does not list."""
    return {k: body[k] for k in service.EDITABLE_FIELDS if k in body and k not in skip}


@bp.post("")
@require_scope("cases:write")
def create_case():
    body = json_body()
    values = _case_fields(body, skip=("title", "handling_conditions"))
    parties = body.get("parties") or []
    if not isinstance(parties, list):
        raise ValidationError({"parties": "must be a list"})
    # The minimum seizure record, as on the form (place, date, an item with its quantity):
    # named with every other error of the body, and nothing is written when it is missing.
    minimum = {}
    if body.get("kind") == "seizure" and isinstance(body.get("items") or [], list):
        minimum = seizures.missing(body, body.get("items") or [])
    try:
        with db.session.begin_nested():
            case = service.open_case(
                body.get("kind"),
                actor=g.actor,
                title=body.get("title"),
                handling_code=body.get("handling_code") or "P",
                handling_conditions=body.get("handling_conditions"),
                template=body.get("template"),
                assignee_id=body.get("assignee_id"),
                items=body.get("items") or [],
                **values,
            )
            if minimum:
                raise ValidationError(minimum)
    except ValidationError as exc:
        raise ValidationError({**minimum, **exc.fields}) from None
    errors = {}
    for i, party in enumerate(parties):
        if not isinstance(party, dict):
            errors[f"parties[{i}]"] = "must be an object"
            continue
        try:
            case_parties.add_party(
                case.id,
                actor=g.actor,
                role=party.get("role"),
                entity_id=party.get("entity_id"),
                new_entity=party.get("new_entity"),
                _name=f"parties[{i}]",
                _log=False,
            )
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    db.session.flush()
    response = jsonify(case_json(case))
    response.status_code = 201
    response.headers["Location"] = url_for("cases_api.get_case", case_id=case.id)
    return response


@bp.get("/<int:case_id>")
@require_scope("cases:read")
def get_case(case_id):
    return jsonify(case_json(service.get_case(case_id, actor=g.actor)))


@bp.patch("/<int:case_id>")
@require_scope("cases:write")
def update_case(case_id):
    body = json_body()
    status = body.get("status")
    resolution = body.get("resolution")
    note = body.get("note")
    handling_code = body.get("handling_code")
    assignee_id = body.get("assignee_id")
    values = _case_fields(body)
    if values or handling_code is not None or assignee_id is not None:
        service.update_case(
            case_id, actor=g.actor, handling_code=handling_code, assignee_id=assignee_id, **values
        )
    if status is not None:
        current = service.get_case(case_id, actor=g.actor, log=False)
        if status != current.status:
            service.change_status(case_id, status, actor=g.actor, resolution=resolution, note=note)
    case = service.get_case(case_id, actor=g.actor, log=False)
    return jsonify(case_json(case))


@bp.post("/<int:case_id>/items")
@require_scope("cases:write")
def add_items(case_id):
    body = json_body()
    items = body.get("items")
    if items is None:
        raise ValidationError({"items": "is required (a list of items)"})
    rows = service.add_items(case_id, items, actor=g.actor)
    return jsonify({"items": [item_json(i) for i in rows]}), 201


@bp.post("/<int:case_id>/parties")
@require_scope("cases:write")
def add_party(case_id):
    body = json_body()
    party = case_parties.add_party(
        case_id,
        actor=g.actor,
        role=body.get("role"),
        entity_id=body.get("entity_id"),
        new_entity=body.get("new_entity"),
    )
    return jsonify(party_json(party)), 201


@bp.post("/<int:case_id>/journal")
@require_scope("cases:write")
def add_journal(case_id):
    body = json_body()
    entry = service.add_journal_entry(case_id, body.get("text"), actor=g.actor)
    return jsonify(journal_json(entry)), 201


# --- OpenAPI -------------------------------------------------------------------------


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes):
    return {c: ERROR_RESPONSES[c] for c in codes}


_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_JSON = "application/json"

_ITEM_INPUT = {
    "type": "object",
    "required": ["commodity_area", "description"],
    "properties": {
        "commodity_area": {"type": "string", "enum": list(catalog.COMMODITY_AREAS)},
        "hs_code": {"type": ["string", "null"], "pattern": "^[0-9]{4,10}$"},
        "description": {"type": "string", "maxLength": 500},
        "quantity": {"type": ["string", "number", "null"]},
        "quantity_unit": {"type": ["string", "null"], "enum": [*catalog.QUANTITY_UNITS, None]},
        "value": {"type": ["string", "number", "null"], "description": "EUR"},
        "concealment_method": {"type": ["string", "null"]},
    },
}
_PARTY_INPUT = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": list(catalog.PARTY_ROLES)},
        "entity_id": {"type": "integer"},
        "new_entity": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "name": {"type": "string"},
                "identifiers": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}
#: the editable case fields as the API takes them (parsed by ``service.EDITABLE_FIELDS``)
_FIELD_INPUTS = {
    name: {"type": ["string", "number", "array", "null"]}
    for name in service.EDITABLE_FIELDS
    if name not in ("title", "handling_conditions")
}

SCHEMAS = {
    # Inputs are separate schemas from outputs: request bodies are closed (unknown keys are
    # refused), responses carry more fields (ids, positions, names).
    "CaseItemInput": _ITEM_INPUT,
    "CasePartyInput": _PARTY_INPUT,
    "CaseItem": {
        "type": "object",
        "required": ["commodity_area", "description"],
        "properties": {
            "id": {"type": "integer"},
            "position": {"type": "integer"},
            **_ITEM_INPUT["properties"],
        },
    },
    "CaseParty": {
        "type": "object",
        "required": ["role"],
        "properties": {
            "id": {"type": "integer"},
            "role": {"type": "string", "enum": list(catalog.PARTY_ROLES)},
            "entity_id": {"type": "integer"},
            "entity_type": {"type": "string"},
            "name": {"type": "string"},
        },
    },
    "CaseSummary": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string"},
            "kind": {"type": "string", "enum": list(catalog.KINDS)},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": list(catalog.STATUSES)},
            "resolution": {"type": ["string", "null"]},
            "priority": {"type": "integer"},
            "unit": {"type": "string"},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "event_dt": {"type": "string", "format": "date-time"},
            "place": {"type": ["string", "null"]},
            "commodity_area": {"type": ["string", "null"]},
            "total_value": {"type": ["string", "null"]},
        },
    },
    "Case": {
        "allOf": [
            _ref("CaseSummary"),
            {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": _ref("CaseItem")},
                    "parties": {"type": "array", "items": _ref("CaseParty")},
                    "journal": {"type": "array", "items": {"type": "object"}},
                    "tasks": {"type": "array", "items": {"type": "object"}},
                },
            },
        ]
    },
    "CaseCreate": {
        "type": "object",
        "required": ["kind", "title"],
        "properties": {
            "kind": {"type": "string", "enum": list(catalog.KINDS)},
            "title": {"type": "string"},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "handling_conditions": {"type": ["string", "null"]},
            "template": {"type": "string", "enum": list(catalog.TEMPLATES)},
            "assignee_id": {"type": ["integer", "null"]},
            "items": {"type": "array", "items": _ref("CaseItemInput")},
            "parties": {"type": "array", "items": _ref("CasePartyInput")},
            **_FIELD_INPUTS,
        },
    },
    "CaseUpdate": {
        "type": "object",
        "description": "Fields to change; status (with resolution and note) moves the "
        "workflow, closing needs case.decide",
        "properties": {
            "title": {"type": "string"},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "handling_conditions": {"type": ["string", "null"]},
            "assignee_id": {"type": ["integer", "null"]},
            "status": {"type": "string", "enum": list(catalog.STATUSES)},
            "resolution": {"type": ["string", "null"]},
            "note": {"type": ["string", "null"]},
            **_FIELD_INPUTS,
        },
    },
}

PATHS = {
    "/api/v1/cases": {
        "get": {
            "summary": "List cases visible to the client (filters as on the case list)",
            "security": [{"bearer": []}],
            "tags": ["cases"],
            "parameters": [
                {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                for n in queries.FILTER_NAMES
            ]
            + [
                *page_parameters(),
                *cursor_parameters(),
            ],
            "responses": {
                "200": {
                    "description": "A page of cases",
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": _ref("CaseSummary")},
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "total": {
                                        "type": "integer",
                                        "description": "counted up to 10,000",
                                    },
                                    "total_is_exact": {"type": "boolean"},
                                    "next_after": {"type": ["string", "null"]},
                                    "prev_before": {"type": ["string", "null"]},
                                },
                            }
                        }
                    },
                },
                **_errors("401", "403", "422"),
            },
        },
        "post": {
            "summary": "Open a case (scope cases:write)",
            "tags": ["cases"],
            "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CaseCreate")}}},
            "responses": {
                "201": {"description": "Created", "content": {_JSON: {"schema": _ref("Case")}}},
                **_errors("400", "401", "403", "422"),
            },
        },
    },
    "/api/v1/cases/{case_id}": {
        "get": {
            "summary": "Read a case",
            "tags": ["cases"],
            "parameters": [_ID],
            "responses": {
                "200": {"description": "The case", "content": {_JSON: {"schema": _ref("Case")}}},
                **_errors("401", "403", "404"),
            },
        },
        "patch": {
            "summary": "Update case fields; status and resolution move the workflow",
            "tags": ["cases"],
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CaseUpdate")}}},
            "responses": {
                "200": {
                    "description": "The updated case",
                    "content": {_JSON: {"schema": _ref("Case")}},
                },
                **_errors("400", "401", "403", "404", "422"),
            },
        },
    },
    "/api/v1/cases/{case_id}/items": {
        "post": {
            "summary": "Add seizure items",
            "tags": ["cases"],
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": _ref("CaseItemInput")}
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {"description": "The items added"},
                **_errors("400", "401", "403", "404", "422"),
            },
        },
    },
    "/api/v1/cases/{case_id}/parties": {
        "post": {
            "summary": "Add a party (an entity of the registry, or a new one)",
            "tags": ["cases"],
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": _ref("CasePartyInput")}},
            },
            "responses": {
                "201": {"description": "The party added"},
                **_errors("400", "401", "403", "404", "422"),
            },
        },
    },
    "/api/v1/cases/{case_id}/journal": {
        "post": {
            "summary": "Post a journal entry",
            "tags": ["cases"],
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["text"],
                            "properties": {"text": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "201": {"description": "The entry"},
                **_errors("400", "401", "403", "404", "422"),
            },
        },
    },
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, PATHS, SCHEMAS)
