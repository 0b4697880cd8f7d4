"""One OpenAPI 3.1 description assembled from what each domain's API declares.

The description is also the allow-list of request bodies: an object schema reachable from an
operation's ``requestBody`` that declares ``properties`` is closed (``additionalProperties:
false``) unless it says otherwise. ``build_spec`` publishes that, and ``unknown_body_fields``
(called by ``app.core.api.json_body``) enforces it from the same document, so a key a client
may send is exactly a key the description lists; anything else is a 422 naming it.
"""

import copy
import re

from app.core.pagination import MAX_PAGE, MAX_PER_PAGE

#: operations whose JSON body is allow-listed
WRITE_METHODS = ("post", "put", "patch")
_CACHE = "tollgate_openapi_bodies"
#: unknown keys named in one 422 at most
MAX_NAMED_FIELDS = 20

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


def cursor_parameters() -> list[dict]:
    """The ``after``/``before`` query parameters of a list with keyset paging
    (``app.core.pagination.keyset_paginate``): the cursors a page answers with."""
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"cursor from {field} of a page (keyset paging: a deep page costs "
            "what page 1 costs); 422 if not one",
            "schema": {"type": "string"},
        }
        for name, field in (("after", "next_after"), ("before", "prev_before"))
    ]


def add_paths(app, paths: dict, schemas: dict | None = None) -> None:
    """Called by a domain's ``init_app`` with its OpenAPI path items and schemas."""
    spec = app.extensions.setdefault("tollgate_openapi", {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas or {})
    app.extensions.pop(_CACHE, None)


def build_spec(app) -> dict:
    parts = app.extensions.get("tollgate_openapi", {"paths": {}, "schemas": {}})
    spec = {
        "openapi": "3.1.0",
        "info": {
            "title": "Tollgate API",
            "version": "1",
            "description": "Request bodies accept only the fields their schema lists: any "
            "other key is refused with 422 and named in error.fields.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        # Copies: closing the request bodies must not change what the domains registered.
        "paths": {path: copy.deepcopy(item) for path, item in parts["paths"].items()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            # One copy per schema: two may share an inline object (alerts' recipients).
            "schemas": {
                name: copy.deepcopy(schema)
                for name, schema in {**BASE_SCHEMAS, **parts["schemas"]}.items()
            },
        },
    }
    _close_request_bodies(spec)
    return spec


# --- request bodies: the allow-list ------------------------------------------------------


def _close_request_bodies(spec: dict) -> None:
    """Write ``additionalProperties: false`` into every object schema with ``properties``
    reachable from a write operation's request body (the rule ``unknown_body_fields``
    enforces). Components reached this way must not also describe responses
    (``tests/test_api_bodies.py`` checks it): an input schema is an input schema."""
    components = spec["components"]["schemas"]
    closed: set[str] = set()
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in WRITE_METHODS or not isinstance(operation, dict):
                continue
            body = operation.get("requestBody")
            if not body:
                continue
            # Its own copy: an inline schema object may also sit under a response.
            operation["requestBody"] = body = copy.deepcopy(body)
            for media in body.get("content", {}).values():
                _close(media.get("schema"), components, closed)


def _close(schema, components: dict, closed: set, *, in_all_of=False) -> None:
    if not isinstance(schema, dict):
        return
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name not in closed and name in components:
            closed.add(name)
            _close(components[name], components, closed)
        return
    # A part of allOf is not closed on its own: the other parts' properties would be
    # "additional" to it. The union is closed where the allOf stands.
    if "properties" in schema and "additionalProperties" not in schema and not in_all_of:
        schema["additionalProperties"] = False
    if "allOf" in schema and "additionalProperties" not in schema:
        schema["unevaluatedProperties"] = False
    for part in schema.get("allOf", ()):
        _close(part, components, closed, in_all_of=True)
    for key in ("oneOf", "anyOf"):
        for part in schema.get(key, ()):
            _close(part, components, closed)
    for sub in schema.get("properties", {}).values():
        _close(sub, components, closed)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _close(schema[key], components, closed)


def _normalise(path: str) -> str:
    """``/api/v1/cases/<int:case_id>`` and ``/api/v1/cases/{id}`` -> ``/api/v1/cases/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", re.sub(r"<[^>]*>", "{}", path))


def _body_index(app) -> dict:
    """(METHOD, normalised path) -> the operation's request body schema (None: no body),
    with the closed components; built once per app from the published description."""
    index = app.extensions.get(_CACHE)
    if index is None:
        spec = build_spec(app)
        operations = {}
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method in WRITE_METHODS and isinstance(operation, dict):
                    content = (operation.get("requestBody") or {}).get("content", {})
                    media = content.get("application/json") or {}
                    operations[(method.upper(), _normalise(path))] = media.get("schema")
        index = app.extensions[_CACHE] = {
            "operations": operations,
            "components": spec["components"]["schemas"],
        }
    return index


def unknown_body_fields(app, method: str, rule: str, body, root: str = "") -> dict[str, str]:
    """``{json path: message}`` for every key of ``body`` the operation's request body
    schema does not declare (empty when all are known). An operation without a described
    body accepts no keys at all: undocumented input is refused, not passed through."""
    index = _body_index(app)
    schema = index["operations"].get((method.upper(), _normalise(rule)))
    if schema is None:
        schema = {"type": "object", "properties": {}, "additionalProperties": False}
    errors = _unknown(schema, body, index["components"], root)
    if len(errors) > MAX_NAMED_FIELDS:
        # A body of thousands of made-up keys gets a short answer, not an echo of itself.
        more = len(errors) - MAX_NAMED_FIELDS
        errors = dict(list(errors.items())[:MAX_NAMED_FIELDS])
        errors[root or "body"] = f"and {more:,} more fields this request does not accept"
    return errors


def _resolve(schema, components: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _json_type(value) -> str | None:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return None


def _accepts_type(schema: dict, kind: str) -> bool:
    declared = schema.get("type")
    if declared is None:
        if "properties" in schema or "allOf" in schema:
            declared = "object"
        elif "items" in schema:
            declared = "array"
        else:
            return True
    return kind in (declared if isinstance(declared, list) else [declared])


def _unknown(schema, value, components: dict, path: str) -> dict[str, str]:
    schema = _resolve(schema, components)
    kind = _json_type(value)
    if kind is None:
        return {}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            parts = [_resolve(part, components) for part in schema[key]]
            found = [
                _unknown(part, value, components, path)
                for part in parts
                if _accepts_type(part, kind)
            ]
            # The branch the value fits best: fewest unknown keys at this level (the branch
            # it was meant for), then fewest below.
            own = {f"{path}.{k}" if path else str(k) for k in value} if kind == "object" else ()
            return min(found, key=lambda e: (len(own & e.keys()), len(e))) if found else {}
    if not _accepts_type(schema, kind):
        return {}  # the wrong type altogether: the domain's validation names it
    if kind == "array":
        items = schema.get("items")
        errors: dict[str, str] = {}
        if isinstance(items, dict):
            for n, item in enumerate(value):
                errors.update(_unknown(items, item, components, f"{path}[{n}]"))
        return errors
    properties = dict(schema.get("properties", {}))
    for part in schema.get("allOf", ()):
        properties.update(_resolve(part, components).get("properties", {}))
    additional = schema.get("additionalProperties")
    if additional is None:
        # Closed where fields are declared; a schema naming none is a free-form map.
        additional = not properties and "allOf" not in schema
    errors = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if key in properties:
            errors.update(_unknown(properties[key], item, components, where))
        elif isinstance(additional, dict):
            errors.update(_unknown(additional, item, components, where))
        elif additional is not True:
            accepted = ", ".join(sorted(properties)) or "none"
            errors[where] = f"is not a field of this request (accepted: {accepted})"
    return errors
