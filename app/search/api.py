"""GET /api/v1/search: the same search and access rules for system clients."""

from flask import Blueprint, g, jsonify, request

from app.core.api import require_scope
from app.core.openapi import ERROR_RESPONSES, add_paths, page_parameters
from app.core.pagination import page_args
from app.extensions import csrf
from app.search import service
from app.search.views import parse_args

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/search")
@require_scope("search:read")
def search():
    page, per_page = page_args(
        request.args, per_page=20, max_per_page=service.MAX_PER_PAGE, strict=True
    )
    options = {**parse_args(request.args, strict=True), "page": page}
    result = service.search(g.actor, request.args.get("q", ""), per_page=per_page, **options)
    return jsonify(
        {
            "query": result.query,
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "counts": result.counts,
            "items": [
                {
                    "record_type": h.record_type,
                    "record_id": h.record_id,
                    "title": h.title,
                    "snippet": h.snippet,
                    "url": h.url,
                    "date": h.date.isoformat() if h.date else None,
                }
                for h in result.hits
            ],
        }
    )


OPENAPI = {
    "/api/v1/search": {
        "get": {
            "summary": "Search entities, cases, reports, declarations and articles",
            "description": "Results are filtered by the client's access before they are counted.",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                {
                    "name": "type",
                    "in": "query",
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "style": "form",
                    "explode": True,
                },
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                *page_parameters(service.MAX_PER_PAGE),
            ],
            "responses": {
                "200": {
                    "description": "Hits",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SearchResult"}
                        }
                    },
                },
                **ERROR_RESPONSES,
            },
        }
    },
}
SCHEMAS = {
    "SearchResult": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "record_type": {"type": "string"},
                        "record_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "snippet": {"type": "string"},
                        "url": {"type": "string"},
                        "date": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, OPENAPI, SCHEMAS)
