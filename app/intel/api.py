"""JSON API: /api/v1/entities, /links, /reports (same services, same access rules)."""

from flask import Blueprint, g, jsonify, request

from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, add_paths, cursor_parameters, page_parameters
from app.core.pagination import keyset_paginate, paginate
from app.extensions import csrf
from app.intel import links, provenance, report_versions, reports, service
from app.intel.models import ENTITY_TYPES, LINK_TYPES, Entity, IntelReport

bp = Blueprint("intel_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def entity_json(e: Entity, *, links=None, actor=None) -> dict:
    out = {
        "id": e.id,
        "type": e.entity_type,
        "name": e.name,
        "aliases": e.aliases or [],
        "identifiers": e.identifiers or {},
        "attributes": e.attributes or {},
        "roles": e.roles or [],
        "handling_code": e.handling_code,
        "handling_conditions": e.handling_conditions,
        "merged_into": e.merged_into_id,
        "merged": e.merged_into_id is not None,
        "created": e.created_dt.isoformat(),
    }
    if actor is not None and e.merged_into_id is not None:
        # Seam rule: a survivor the client may not open is not named, not even by its id.
        survivor, _hidden = service.survivor_for(e, actor=actor)
        out["merged_into"] = survivor.id if survivor else None
    if links is not None:
        out["links"] = [link_json(lk) for lk in links]
    return out


def link_json(lk) -> dict:
    return {
        "id": lk.id,
        "source_id": lk.source_id,
        "target_id": lk.target_id,
        "link_type": lk.link_type,
        "grade": lk.grade,
        "start_date": lk.start_date.isoformat() if lk.start_date else None,
        "end_date": lk.end_date.isoformat() if lk.end_date else None,
        "provenance": {"type": lk.provenance_type, "id": lk.provenance_id},
        "handling_code": lk.handling_code,
    }


def report_json(r: IntelReport, *, full=True) -> dict:
    grade = reports.grade_view(r)
    out = {
        "id": r.id,
        "reference": r.reference,
        "title": r.title,
        "grade": r.grade,
        "source_grade": r.source_grade,
        "intel_grade": r.intel_grade,
        "grade_5x5x5": grade["5x5x5"],
        "grade_admiralty": grade["admiralty"],
        "handling_code": r.handling_code,
        "handling_conditions": r.handling_conditions,
        "review_date": r.review_date.isoformat(),
        "status": r.status,
        "created": r.created_dt.isoformat(),
    }
    if full:
        out["body"] = r.body
        out["sanitised_body"] = r.sanitised_body
    return out


def _page_json(page, render):
    return {
        "items": [render(x) for x in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }


@bp.get("/entities")
@require_scope("entities:read")
def entities_list():
    q = request.args.get("q", "").strip()
    etype = request.args.get("type") or None
    if etype and etype not in ENTITY_TYPES:
        raise ValidationError({"type": f"must be one of {', '.join(ENTITY_TYPES)}"})
    stmt = service.entity_query(g.actor, types=[etype] if etype else None)
    if q:
        found = service.find_entities(q, actor=g.actor, types=[etype] if etype else None, limit=200)
        stmt = stmt.where(Entity.id.in_([e.id for e in found]))
    # keyset paging like the case API: ?after=<next_after> is one index seek however deep
    page = keyset_paginate(stmt, request.args, [(Entity.id, False)], strict=True)
    # Every list read is trailed (it returns full identifiers), with or without a query.
    service.record_search(
        g.actor, "entity", q, type=etype, page=page.page, returned=len(page.items), total=page.total
    )
    out = _page_json(page, entity_json)
    out["next_after"] = page.after if page.has_next else None
    out["prev_before"] = page.before if page.has_prev else None
    return jsonify(out)


@bp.post("/entities")
@require_scope("entities:write")
def entities_create():
    body = json_body()
    entity = service.create_entity(
        body.get("type"),
        body.get("name"),
        actor=g.actor,
        aliases=body.get("aliases") or (),
        identifiers=body.get("identifiers"),
        attributes=body.get("attributes"),
        handling_code=body.get("handling_code", "P"),
        handling_conditions=body.get("handling_conditions"),
        duplicate_reason=body.get("duplicate_reason"),
    )
    return jsonify(entity_json(entity)), 201


@bp.errorhandler(service.DuplicateIdentifier)
def _duplicate(exc):
    """409 naming the existing entity: raised only when the caller may see it (a holder they
    may not see is not reported, the entity is registered as if there were none)."""
    from app.extensions import db

    db.session.rollback()
    existing = db.session.get(Entity, exc.existing.id)
    body = {
        "status": 409,
        "message": f"{exc}; send duplicate_reason to register a second entity anyway",
        "fields": exc.fields,
        "existing": service.entity_summary(existing),
    }
    return jsonify({"error": body}), 409


@bp.get("/entities/<int:entity_id>")
@require_scope("entities:read")
def entity_get(entity_id):
    entity = service.get_entity(entity_id, actor=g.actor)
    return jsonify(
        entity_json(entity, links=service.links_of(entity, actor=g.actor), actor=g.actor)
    )


@bp.post("/links")
@require_scope("entities:write")
def links_create():
    body = json_body()
    prov_type, prov_id = provenance.checked(
        g.actor, body.get("provenance_type"), body.get("provenance_id")
    )
    link = service.add_link(
        body.get("source_id"),
        body.get("target_id"),
        body.get("link_type"),
        actor=g.actor,
        provenance_type=prov_type,
        provenance_id=prov_id,
        start_date=body.get("start_date"),
        end_date=body.get("end_date"),
        grade=body.get("grade"),
        handling_code=body.get("handling_code", "P"),
    )
    return jsonify(link_json(link)), 201


#: the fields of a link an edit may change (an absent key leaves the field as it is)
_LINK_EDITABLE = ("link_type", "start_date", "end_date", "grade")


@bp.patch("/links/<int:link_id>")
@require_scope("entities:write")
def link_update(link_id):
    """Correct or end a link (``end_date``), with a reason: the reading before is kept as a
    version, the change trailed; a link the caller may not see is 404 (as on the page)."""
    body = json_body()
    changes = {k: body[k] for k in _LINK_EDITABLE if k in body}
    link = links.update_link(link_id, actor=g.actor, reason=body.get("reason"), **changes)
    out = link_json(link)
    out["versions"] = [_link_version_json(v) for v in links.versions_of(link)]
    return jsonify(out)


def _link_version_json(v) -> dict:
    return {
        "version": v.version,
        "link_type": v.link_type,
        "start_date": v.start_date.isoformat() if v.start_date else None,
        "end_date": v.end_date.isoformat() if v.end_date else None,
        "grade": v.grade,
        "reason": v.reason,
    }


@bp.patch("/reports/<int:report_id>")
@require_scope("entities:write")
def report_update(report_id):
    """Edit a filed report, with a reason: the text and grades before are kept as a version,
    the change trailed; an absent field keeps its value; a report the caller may not open
    is 404."""
    body = json_body()
    current = reports.get_report(report_id, actor=g.actor, log=False)
    fields = ("title", "body", "source_grade", "intel_grade", "sanitised_body")
    values = {f: body[f] if f in body else getattr(current, f) for f in fields}
    report = report_versions.edit_report(
        report_id, actor=g.actor, reason=body.get("reason"), **values
    )
    out = report_json(report)
    out["versions"] = [
        {"version": v.version, "reason": v.reason, "title": v.title}
        for v in report_versions.versions_of(report)
    ]
    return jsonify(out)


@bp.get("/reports")
@require_scope("entities:read")
def reports_list():
    stmt = reports.report_query(g.actor).order_by(IntelReport.id.desc())
    page = paginate(stmt, request.args, strict=True)
    service.record_search(
        g.actor, "report", None, page=page.page, returned=len(page.items), total=page.total
    )
    return jsonify(_page_json(page, lambda r: report_json(r, full=False)))


@bp.post("/reports")
@require_scope("entities:write")
def reports_create():
    body = json_body()
    ids = body.get("entity_ids") or []
    if not isinstance(ids, list):
        raise ValidationError({"entity_ids": "must be a list of entity ids"})
    links = body.get("links") or []
    if not isinstance(links, list) or not all(isinstance(x, dict) for x in links):
        raise ValidationError({"links": "must be a list of objects"})
    report = reports.create_report(
        body.get("title"),
        body.get("body"),
        body.get("source_grade"),
        body.get("intel_grade"),
        actor=g.actor,
        handling_code=body.get("handling_code", "C"),
        handling_conditions=body.get("handling_conditions"),
        sanitised_body=body.get("sanitised_body"),
        review_date=body.get("review_date"),
        entity_ids=ids,
        links=links,
    )
    return jsonify(report_json(report)), 201


@bp.get("/reports/<int:report_id>")
@require_scope("entities:read")
def report_get(report_id):
    report = reports.get_report(report_id, actor=g.actor)
    out = report_json(report)
    out["entities"] = [
        {"id": e.id, "name": e.name, "role": role}
        for e, role in service.entities_mentioned_by("report", report.id, actor=g.actor)
    ]
    return jsonify(out)


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


_PAGE = page_parameters()
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]

SCHEMAS = {
    "Entity": {
        "type": "object",
        "required": ["id", "type", "name"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "enum": list(ENTITY_TYPES)},
            "name": {"type": "string"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "identifiers": {"type": "object", "additionalProperties": {"type": "string"}},
            "attributes": {"type": "object"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "handling_conditions": {"type": ["string", "null"]},
            "merged_into": {
                "type": ["integer", "null"],
                "description": "the surviving entity, null when merged into one you may not see",
            },
            "merged": {"type": "boolean"},
            "created": {"type": "string"},
            "links": {"type": "array", "items": _ref("Link")},
        },
    },
    "EntityInput": {
        "type": "object",
        "required": ["type", "name"],
        "properties": {
            "type": {"type": "string", "enum": list(ENTITY_TYPES)},
            "name": {"type": "string"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "identifiers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "scheme -> value: eori, tin, trader_code, container "
                "(ISO 6346), imo, iban, phone, email, plate, passport",
            },
            "attributes": {"type": "object"},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "handling_conditions": {"type": "string"},
            "duplicate_reason": {
                "type": "string",
                "description": "why a second entity is registered with an identifier an "
                "entity you may see already holds (without it: 409 naming that entity)",
            },
        },
    },
    "Link": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "source_id": {"type": "integer"},
            "target_id": {"type": "integer"},
            "link_type": {"type": "string", "enum": list(LINK_TYPES)},
            "grade": {"type": ["string", "null"], "description": "3x5x2, e.g. 1A"},
            "start_date": {"type": ["string", "null"], "format": "date"},
            "end_date": {"type": ["string", "null"], "format": "date"},
            "provenance": {"type": "object"},
            "handling_code": {"type": "string"},
        },
    },
    "LinkInput": {
        "type": "object",
        "required": ["source_id", "target_id", "link_type"],
        "properties": {
            "source_id": {"type": "integer"},
            "target_id": {"type": "integer"},
            "link_type": {"type": "string", "enum": list(LINK_TYPES)},
            "grade": {"type": "string"},
            "start_date": {"type": "string", "format": "date"},
            "end_date": {"type": "string", "format": "date"},
            "provenance_type": {"type": "string"},
            "provenance_id": {"type": "integer"},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
        },
    },
    "LinkUpdate": {
        "type": "object",
        "required": ["reason"],
        "description": "an absent field keeps its value; end a link by giving its end_date",
        "properties": {
            "reason": {"type": "string", "description": "why the link changes (kept)"},
            "link_type": {"type": "string", "enum": list(LINK_TYPES)},
            "grade": {"type": "string"},
            "start_date": {"type": ["string", "null"], "format": "date"},
            "end_date": {"type": ["string", "null"], "format": "date"},
        },
    },
    "ReportUpdate": {
        "type": "object",
        "required": ["reason"],
        "description": "an absent field keeps its value; the text before is kept as a version",
        "properties": {
            "reason": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "source_grade": {"type": "string", "enum": ["1", "2", "3"]},
            "intel_grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
            "sanitised_body": {"type": ["string", "null"]},
        },
    },
    "Report": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string"},
            "title": {"type": "string"},
            "grade": {"type": "string"},
            "source_grade": {"type": "string", "enum": ["1", "2", "3"]},
            "intel_grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
            "grade_5x5x5": {"type": "string"},
            "grade_admiralty": {"type": "string"},
            "handling_code": {"type": "string"},
            "review_date": {"type": "string"},
            "status": {"type": "string"},
            "body": {"type": "string"},
            "sanitised_body": {"type": ["string", "null"]},
        },
    },
    "ReportInput": {
        "type": "object",
        "required": ["title", "body", "source_grade", "intel_grade"],
        "properties": {
            "title": {"type": "string"},
            "body": {"type": "string"},
            "source_grade": {"type": "string", "enum": ["1", "2", "3"]},
            "intel_grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
            "handling_code": {"type": "string", "enum": ["P", "C"]},
            "handling_conditions": {"type": "string"},
            "sanitised_body": {"type": "string"},
            "review_date": {"type": "string", "format": "date"},
            "entity_ids": {"type": "array", "items": {"type": "integer"}},
            "links": {"type": "array", "items": _ref("LinkInput")},
        },
    },
}


def _page_of(name, *, cursors=False):
    properties = {
        "items": {"type": "array", "items": _ref(name)},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
    }
    if cursors:
        properties["next_after"] = {"type": ["string", "null"]}
        properties["prev_before"] = {"type": ["string", "null"]}
    return {"type": "object", "properties": properties}


OPENAPI = {
    "/api/v1/entities": {
        "get": {
            "summary": "List or find entities (name, alias or identifier)",
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "type",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(ENTITY_TYPES)},
                },
                *_PAGE,
                *cursor_parameters(),
            ],
            "responses": {
                "200": {"description": "Entities", **_json(_page_of("Entity", cursors=True))},
                **ERROR_RESPONSES,
            },
        },
        "post": {
            "summary": "Register an entity (identifiers validated)",
            "requestBody": {"required": True, **_json(_ref("EntityInput"))},
            "responses": {
                "201": {"description": "Created", **_json(_ref("Entity"))},
                "409": {
                    "description": "An identifier is already registered on an entity you may "
                    "see (error.existing names it); one you may not see is never reported"
                },
                **ERROR_RESPONSES,
            },
        },
    },
    "/api/v1/entities/{id}": {
        "get": {
            "summary": "An entity with its visible links",
            "parameters": _ID,
            "responses": {
                "200": {"description": "Entity", **_json(_ref("Entity"))},
                **ERROR_RESPONSES,
            },
        }
    },
    "/api/v1/links": {
        "post": {
            "summary": "Link two entities",
            "requestBody": {"required": True, **_json(_ref("LinkInput"))},
            "responses": {
                "201": {"description": "Created", **_json(_ref("Link"))},
                **ERROR_RESPONSES,
            },
        }
    },
    "/api/v1/links/{id}": {
        "patch": {
            "summary": "Correct or end a link, with a reason (versioned, trailed)",
            "parameters": _ID,
            "requestBody": {"required": True, **_json(_ref("LinkUpdate"))},
            "responses": {
                "200": {"description": "The link with its earlier versions", **_json(_ref("Link"))},
                **ERROR_RESPONSES,
            },
        }
    },
    "/api/v1/reports": {
        "get": {
            "summary": "List intelligence reports (without their text)",
            "parameters": _PAGE,
            "responses": {
                "200": {"description": "Reports", **_json(_page_of("Report"))},
                **ERROR_RESPONSES,
            },
        },
        "post": {
            "summary": "File a 3x5x2-graded intelligence report",
            "requestBody": {"required": True, **_json(_ref("ReportInput"))},
            "responses": {
                "201": {"description": "Created", **_json(_ref("Report"))},
                **ERROR_RESPONSES,
            },
        },
    },
    "/api/v1/reports/{id}": {
        "get": {
            "summary": "One report with its text and the entities it names",
            "parameters": _ID,
            "responses": {
                "200": {"description": "Report", **_json(_ref("Report"))},
                **ERROR_RESPONSES,
            },
        },
        "patch": {
            "summary": "Edit a filed report, with a reason (versioned, trailed)",
            "parameters": _ID,
            "requestBody": {"required": True, **_json(_ref("ReportUpdate"))},
            "responses": {
                "200": {"description": "The report with its versions", **_json(_ref("Report"))},
                **ERROR_RESPONSES,
            },
        },
    },
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, OPENAPI, SCHEMAS)
