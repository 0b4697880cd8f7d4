"""Guards and helpers for JSON API endpoints (token-authenticated system clients)."""

import functools

from flask import current_app, g, request

from app.core.errors import ValidationError
from app.core.json_input import first_bad_string
from app.security.access import AccessDenied

# What a scope lets a client's services do, expressed in role permissions.
SCOPE_PERMISSIONS = {
    "declarations:write": {"risk.declaration.view"},
    "declarations:read": {"risk.declaration.view"},
    "control-results:write": {"risk.declaration.view", "risk.control.record"},
    "cases:read": {"case.view"},
    # entity.view: a client adding parties names entities of the registry.
    "cases:write": {"case.view", "case.create", "case.edit", "entity.view"},
    "entities:read": {"entity.view", "intel.view"},
    "entities:write": {"entity.view", "entity.edit", "intel.view", "intel.edit"},
    "alerts:read": {"alert.view"},
    "alerts:write": {"alert.view", "alert.manage"},
    "search:read": {"search.use"},
    # Shares of cases, entities and reports: the record must be visible to the client.
    "shares:read": {"case.view", "entity.view", "intel.view"},
    "shares:write": {"case.view", "entity.view", "intel.view", "record.share"},
    "screening:read": {"screening.view"},
    "screening:write": {"screening.view", "screening.judge"},
}


# API code raises the same error as services; kept under this name for readability.
ApiValidationError = ValidationError


def require_scope(scope: str):
    """Authenticate the bearer token and require ``scope``; sets ``g.actor``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            from app.core.time import as_utc, now_utc
            from app.security import service
            from app.security.access import Actor

            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else None
            client = service.client_for_token(token)
            if client is None:
                raise AccessDenied("A valid bearer token is required.", status=401)
            if scope not in client.scope_set:
                raise AccessDenied(f"This token lacks the scope {scope}.", status=403)
            permissions = set()
            for s in client.scope_set:
                permissions |= SCOPE_PERMISSIONS.get(s, set())
            # At most once a minute: writing it on every request serialises all of a client's
            # requests on its row lock (the declaration system posts hundreds per second).
            # Written after the request's commit, in a transaction of its own (web._finish).
            last = client.last_used_dt
            if last is None or (now_utc() - as_utc(last)).total_seconds() > (
                service.CLIENT_TOUCH_SECONDS
            ):
                g.touch_api_client = client.id
            g.actor = Actor.for_client(client, permissions, client_addr=request.remote_addr)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def json_body(kind=dict):
    """The request's JSON body, or a 422 naming the problem (413 beyond the size limit).

    Parsing goes through ``app.core.json_input`` (the app's request class): size, nesting,
    strict UTF-8 and JSON numbers, and no NUL or lone surrogate in any string or key."""
    if not request.is_json:
        raise ApiValidationError({"body": "must be JSON (Content-Type: application/json)"})
    data = request.get_json()
    if not isinstance(data, kind):
        raise ApiValidationError(
            {"body": f"must be a JSON {'object' if kind is dict else 'array'}"}
        )
    reject_unknown_fields(data)
    return data


def reject_unknown_fields(data, root: str = "") -> None:
    """422 naming every key the operation's request body schema (its OpenAPI description)
    does not list: a body is an allow-list, never forwarded wholesale to a service."""
    from app.core.openapi import unknown_body_fields

    if fields := unknown_body_fields(
        current_app, request.method, request.url_rule.rule, data, root
    ):
        raise ApiValidationError(fields)


def _first_nul(value, path):
    """The JSON path of the first string (or the object of a key) holding a NUL character or
    a lone surrogate, else None."""
    found = first_bad_string(value, path)
    return found[0] if found else None
