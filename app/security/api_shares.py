"""JSON API: /api/v1/shares (share a code-C record, list a record's shares, revoke one)."""

from flask import Blueprint, g, jsonify, request

from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, add_paths
from app.core.params import id_arg, id_value
from app.extensions import csrf
from app.security import shares

bp = Blueprint("shares_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/shares")
@require_scope("shares:read")
def shares_list():
    record_type = (request.args.get("record_type") or "").strip()
    if not record_type:
        raise ValidationError({"record_type": "is required"})
    record_id = id_arg(request.args, "record_id", strict=True)
    rows = shares.list_shares(record_type, record_id, actor=g.actor)
    return jsonify({"items": [shares.share_json(s) for s in rows]})


@bp.post("/shares")
@require_scope("shares:write")
def shares_create():
    body = json_body()
    record_type = body.get("record_type")
    if not isinstance(record_type, str):
        raise ValidationError({"record_type": f"must be one of: {', '.join(shares.SHAREABLE)}"})
    share = shares.create_share(
        record_type,
        id_value(body.get("record_id"), "record_id", strict=True),
        actor=g.actor,
        reason=body.get("reason"),
        expires=body.get("expires_dt"),
        unit_id=id_value(body.get("unit_id"), "unit_id", strict=True)
        if body.get("unit_id") is not None
        else None,
        user_id=id_value(body.get("user_id"), "user_id", strict=True)
        if body.get("user_id") is not None
        else None,
    )
    return jsonify(shares.share_json(share)), 201


@bp.get("/shares/<int:share_id>")
@require_scope("shares:read")
def share_get(share_id):
    share, _ = shares.get_share(share_id, actor=g.actor)
    return jsonify(shares.share_json(share))


@bp.delete("/shares/<int:share_id>")
@require_scope("shares:write")
def share_revoke(share_id):
    if request.get_data():
        json_body()  # no body is described: any key is refused with 422, naming it
    share = shares.revoke_share(share_id, actor=g.actor, reason=request.args.get("reason"))
    return jsonify(shares.share_json(share))


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


_SHARE = {"$ref": "#/components/schemas/Share"}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]

SCHEMAS = {
    "Share": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "record_type": {"type": "string", "enum": list(shares.SHAREABLE)},
            "record_id": {"type": "integer"},
            "unit": {"type": ["string", "null"], "description": "code of the unit shared with"},
            "unit_id": {"type": ["integer", "null"]},
            "user": {"type": ["string", "null"], "description": "user name shared with"},
            "user_id": {"type": ["integer", "null"]},
            "reason": {"type": ["string", "null"]},
            "conditions": {
                "type": ["string", "null"],
                "description": "the record's handling conditions when it was shared",
            },
            "created": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "expires_dt": {"type": ["string", "null"], "format": "date-time"},
            "revoked_dt": {"type": ["string", "null"], "format": "date-time"},
            "revoked_by": {"type": ["string", "null"]},
            "revoke_reason": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["active", "revoked", "expired"]},
        },
    },
    "ShareInput": {
        "type": "object",
        "required": ["record_type", "record_id", "reason", "expires_dt"],
        "description": "Name exactly one of unit_id and user_id. Only the owning unit shares "
        "a code-C record; the share ends at expires_dt (at most 366 days ahead).",
        "properties": {
            "record_type": {"type": "string", "enum": list(shares.SHAREABLE)},
            "record_id": {"type": "integer"},
            "unit_id": {"type": "integer"},
            "user_id": {"type": "integer"},
            "reason": {"type": "string", "description": "why the recipient needs the record"},
            "expires_dt": {
                "type": "string",
                "description": "date-time with its UTC offset, or a date (the end of that "
                "day, UTC); a time without an offset is refused",
            },
        },
    },
}

OPENAPI = {
    "/api/v1/shares": {
        "get": {
            "summary": "The shares of one record (current and past; a recipient sees its own)",
            "parameters": [
                {
                    "name": "record_type",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "enum": list(shares.SHAREABLE)},
                },
                {
                    "name": "record_id",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            ],
            "responses": {
                "200": {
                    "description": "Shares",
                    **_json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": _SHARE}},
                        }
                    ),
                },
                **ERROR_RESPONSES,
            },
        },
        "post": {
            "summary": "Share a code-C record of the client's unit with a unit or a user",
            "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/ShareInput"})},
            "responses": {"201": {"description": "Shared", **_json(_SHARE)}, **ERROR_RESPONSES},
        },
    },
    "/api/v1/shares/{id}": {
        "get": {
            "summary": "One share",
            "parameters": _ID,
            "responses": {"200": {"description": "Share", **_json(_SHARE)}, **ERROR_RESPONSES},
        },
        "delete": {
            "summary": "Revoke a share (kept as history: revoked_dt, revoked_by)",
            "parameters": [
                *_ID,
                {
                    "name": "reason",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "why the share ends (recorded in the trail)",
                },
            ],
            "responses": {"200": {"description": "Revoked", **_json(_SHARE)}, **ERROR_RESPONSES},
        },
    },
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, OPENAPI, SCHEMAS)
