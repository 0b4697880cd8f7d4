"""One OpenAPI 3.1 description assembled from what each domain's API declares."""

from app.core.pagination import MAX_PAGE, MAX_PER_PAGE

BASE_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        },
    }
}

ERROR_RESPONSES = {
    "400": {
        "description": "Malformed request",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "401": {
        "description": "Missing or invalid token",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "403": {
        "description": "Token lacks the scope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "404": {
        "description": "Not found or outside need-to-know",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "422": {
        "description": "Validation failed; fields name what is wrong",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def page_parameters(max_per_page: int = MAX_PER_PAGE) -> list[dict]:
    """The ``page``/``per_page`` query parameters of a list operation, with the bounds
    ``app.core.pagination.paginate(..., strict=True)`` enforces (422 outside them)."""
    return [
        {
            "name": "page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        },
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": max_per_page},
        },
    ]


def add_paths(app, paths: dict, schemas: dict | None = None) -> None:
    """Called by a domain's ``init_app`` with its OpenAPI path items and schemas."""
    spec = app.extensions.setdefault("tollgate_openapi", {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas or {})


def build_spec(app) -> dict:
    parts = app.extensions.get("tollgate_openapi", {"paths": {}, "schemas": {}})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tollgate API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": parts["paths"],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**BASE_SCHEMAS, **parts["schemas"]},
        },
    }
