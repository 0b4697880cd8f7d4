"""``/api/v1/exchange``: FtM export of entities (a chart) or of an entity's neighbourhood,
STIX 2.1 export of a report and import of a STIX bundle (resolution candidates)."""

from flask import Blueprint, g

from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, add_paths
from app.core.params import id_list, id_value
from app.exchange.http import STIX_MIMETYPE, download, ftm_file
from app.extensions import csrf

bp = Blueprint("exchange_api", __name__, url_prefix="/api/v1/exchange")
csrf.exempt(bp)


@bp.post("/ftm")
@require_scope("entities:read")
def ftm_export_api():
    from app.exchange import ftm_export  # followthemoney loads on first use, not at start

    body = json_body()
    entity_id = id_value(body.get("entity_id"), "entity_id", strict=True)
    ids = id_list(body.get("entity_ids") or [], "entity_ids", strict=True)
    justification = body.get("justification")
    if (entity_id is None) == (not ids):
        raise ValidationError({"entity_id": "send entity_id (a neighbourhood) or entity_ids"})
    if entity_id is not None:
        out = ftm_export.export_neighbourhood(entity_id, actor=g.actor, justification=justification)
    else:
        out = ftm_export.export(ids, actor=g.actor, justification=justification, what="api")
    return ftm_file(out, "tollgate.ftm.jsonl")


@bp.post("/reports/<int:report_id>/stix")
@require_scope("entities:read")
def report_stix_api(report_id):
    from app.exchange import stix

    body = json_body()
    out = stix.export_report(report_id, actor=g.actor, justification=body.get("justification"))
    return download(out.body, STIX_MIMETYPE, f"tollgate-report-{report_id}.stix.json")


SCHEMAS = {
    "FtmExportInput": {
        "type": "object",
        "required": ["justification"],
        "properties": {
            "entity_id": {
                "type": "integer",
                "description": "export this entity and its visible neighbourhood",
            },
            "entity_ids": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "export these entities (a chart) and the links among them",
            },
            "justification": {"type": "string", "description": "why the records leave"},
        },
    },
    "StixExportInput": {
        "type": "object",
        "required": ["justification"],
        "properties": {
            "justification": {"type": "string", "description": "why the report leaves"},
        },
    },
}

OPENAPI = {
    "/api/v1/exchange/ftm": {
        "post": {
            "summary": "Export entities and links as FollowTheMoney JSON lines (what the "
            "client may see only; trailed with the justification)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/FtmExportInput"}}
                },
            },
            "responses": {
                "200": {
                    "description": "One FtM entity per line (handling_code and grade as "
                    "top-level keys); X-Tollgate-Left-Out names types with no FtM schema",
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                **ERROR_RESPONSES,
            },
        }
    },
}

OPENAPI["/api/v1/exchange/reports/{id}/stix"] = {
    "post": {
        "summary": "Export an intelligence report with its entities and graded links as a "
        "STIX 2.1 bundle (sanitised text only; grade in confidence and labels; trailed)",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StixExportInput"}}
            },
        },
        "responses": {
            "200": {
                "description": "A STIX 2.1 bundle",
                "content": {"application/stix+json": {"schema": {"type": "object"}}},
            },
            **ERROR_RESPONSES,
        },
    }
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, OPENAPI, SCHEMAS)
