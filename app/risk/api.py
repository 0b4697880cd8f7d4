"""The declaration system's API: submit declarations, read assessments, send control results."""

from flask import Blueprint, current_app, g, jsonify, request

from app.core.api import json_body, reject_unknown_fields, require_scope
from app.core.openapi import ERROR_RESPONSES, add_paths
from app.core.web import error_response
from app.extensions import csrf
from app.risk import assessment, control, explanations
from app.risk.intake import MAX_MASS_KG, MAX_QUANTITY, MAX_VALUE
from app.risk.models import CHANNELS, FRAUD_TYPES
from app.risk.parties import KINDS as PARTY_KINDS
from app.risk.parties import MAX_PARTIES, screening_for
from app.risk.parties import ROLES as PARTY_ROLES

bp = Blueprint("risk_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def declaration_json(decl) -> dict:
    a = decl.assessment or {}
    rnd = a.get("random") or {}
    result = decl.control_result
    return {
        "id": decl.id,
        "number": decl.number,
        "channel": decl.channel,
        "engine_channel": decl.engine_channel,
        "reasons": a.get("reasons", []),
        "profiles": [
            {k: p.get(k) for k in ("code", "name", "channel", "instructions", "items", "matched")}
            for p in a.get("profiles", [])
        ],
        "ml_score": decl.ml_score,
        "trader_rating": decl.trader_rating,
        "random_selected": decl.is_random_selected,
        "random": {
            "draw": rnd.get("draw"),
            "channel": rnd.get("channel"),
            "seed": decl.random_seed,
        },
        "engine_version": decl.engine_version,
        "raised": a.get("raised"),
        "screening": screening_for(g.actor, a),
        "ml_explanations": [
            {"line": e["line"], "score": e["score"], "reasons": e["reasons"]}
            for e in explanations.ml_explanations(decl)
        ],
        "control_result": None
        if result is None
        else {
            **_control_json(result),
            "version": result.version,
            "history": [_control_json(v) for v in control.history(decl)],
        },
    }


def _control_json(r) -> dict:
    """One control result (the latest, or a version of its history)."""
    out = {
        "inspected": r.is_inspected,
        "compliant": r.is_compliant,
        "fraud_type": r.fraud_type,
        "revenue_recovered": r.revenue_recovered,
        "goods_seized": r.is_goods_seized,
        "seizure_case_id": r.seizure_case_id,
        "recorded_dt": r.recorded_dt.isoformat() if r.recorded_dt else None,
    }
    if hasattr(r, "reason"):  # a version: who recorded it and why it corrected the one before
        out.update(version=r.version, reason=r.reason, recorded_by=r.recorded_by_name or None)
    return out


@bp.post("/declarations")
@require_scope("declarations:write")
def submit():
    """One declaration (object) or a batch (array, or {"declarations": [...]})."""
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, list) or (isinstance(body, dict) and "declarations" in body):
        bodies = body if isinstance(body, list) else body["declarations"]
        if too_large := _oversized_batch(bodies):
            return too_large
        # The batch does not pass through json_body: its keys are allow-listed here.
        reject_unknown_fields(body, root="declarations" if isinstance(body, list) else "")
        decls = assessment.submit_declarations(bodies, actor=g.actor)
        return jsonify({"declarations": [declaration_json(d) for d in decls]}), 201
    body = json_body(dict)
    decl = assessment.submit_declaration(body, actor=g.actor)
    return jsonify(declaration_json(decl)), 201


#: default of TOLLGATE_API_BATCH_MAX_ITEMS: 500 declarations sharing 5,000 items (the slowest
#: batch it lets through) take about 4.6 s on SQLite under load (bench/sqlite_contention.py)
BATCH_MAX_ITEMS = 5_000


def _oversized_batch(bodies):
    """A 413 when the batch has more items than TOLLGATE_API_BATCH_MAX_ITEMS, else None.

    A batch is assessed and written in one transaction: on SQLite it holds the one write
    lock from its first declaration to its commit, so its size bounds how long every other
    writer waits (60 declarations x 500 items took 38 s and another user's page failed)."""
    if not isinstance(bodies, list):
        return None  # the validation names what is wrong
    limit = current_app.config.get("TOLLGATE_API_BATCH_MAX_ITEMS", BATCH_MAX_ITEMS)
    items = sum(
        len(b["items"]) for b in bodies if isinstance(b, dict) and isinstance(b.get("items"), list)
    )
    if items <= limit:
        return None
    message = (
        f"{items:,} items in {len(bodies):,} declarations; at most {limit:,} items per "
        "request: send the declarations in smaller batches"
    )
    return error_response(413, message, fields={"declarations": message})


@bp.get("/declarations/<number>")
@require_scope("declarations:read")
def get_declaration(number):
    from sqlalchemy import select

    from app.extensions import db
    from app.risk.models import Declaration
    from app.security.access import NotFound

    decl_id = db.session.scalar(select(Declaration.id).where(Declaration.number == number))
    if decl_id is None:
        raise NotFound(f"No declaration {number}.")
    decl = assessment.get_declaration(decl_id, actor=g.actor)
    return jsonify(declaration_json(decl))


@bp.post("/declarations/<number>/control-result")
@require_scope("control-results:write")
def control_result(number):
    data = json_body(dict)
    decl = control.find_declaration(number, actor=g.actor)
    # The service writes the trail row (with the version recorded and the reason).
    control.record_control_result(decl.id, data, actor=g.actor, source="api", decl=decl)
    return jsonify(declaration_json(decl)), 201


# --- OpenAPI ------------------------------------------------------------------------------

#: the description of a field holding a code of a reference list (app.reference)
_COUNTRY = "ISO 3166-1 alpha-2, in the reference list of countries"
_ITEM = {
    "type": "object",
    "required": ["hs_code", "value"],
    "properties": {
        "hs_code": {"type": "string", "pattern": "^[0-9]{6,10}$"},
        "description": {"type": "string"},
        "origin": {"type": "string", "description": _COUNTRY},
        "departure": {"type": "string", "description": _COUNTRY},
        "value": {"type": "number", "minimum": 0, "maximum": MAX_VALUE},
        "mass": {
            "type": "number",
            "minimum": 0,
            "maximum": MAX_MASS_KG,
            "description": "net mass, kg",
        },
        "quantity": {"type": "number", "minimum": 0, "maximum": MAX_QUANTITY},
        "quantity_unit": {"type": "string"},
        "tax_rate": {
            "type": "number",
            "minimum": 0,
            "description": "percent: 0-100, or up to the highest rate of the item's tax type "
            "(reference list tax_type)",
        },
        "tax_type": {"type": "string", "description": "a code of the reference list tax_type"},
        "origin_indicator": {"type": "string"},
    },
}
_PARTY = {
    "type": "object",
    "required": ["role", "name"],
    "properties": {
        "role": {"type": "string", "enum": list(PARTY_ROLES)},
        "name": {"type": "string", "maxLength": 300},
        "kind": {"type": "string", "enum": list(PARTY_KINDS)},
        "country": {"type": "string", "description": _COUNTRY},
        "identifiers": {
            "type": "array",
            "maxItems": 10,
            "items": {"type": "string", "maxLength": 60},
            "description": "tax or registration numbers, LEI, IMO ... as written",
        },
        "birth_date": {"type": "string", "format": "date", "description": "persons only"},
    },
}
SCHEMAS = {
    "DeclarationIn": {
        "type": "object",
        "required": ["number", "date", "office", "items"],
        "properties": {
            "number": {"type": "string", "maxLength": 40},
            "date": {
                "type": "string",
                "format": "date",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "YYYY-MM-DD, within TOLLGATE_DECLARATION_DATE_PAST_DAYS (730) "
                "before and TOLLGATE_DECLARATION_DATE_FUTURE_DAYS (30) after today",
            },
            "office": {"type": "string", "description": "a code of the reference list office"},
            **{
                k: {"type": "string"}
                for k in (
                    "procedure",
                    "import_type",
                    "import_use",
                    "payment_type",
                    "transport_mode",
                    "dispatch_country",
                    "declarant",
                    "importer",
                    "seller",
                    "courier",
                )
            },
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": assessment.MAX_ITEMS,
                "items": _ITEM,
            },
            "parties": {
                "type": "array",
                "maxItems": MAX_PARTIES,
                "description": "Named parties (importer, declarant, seller, courier by name, "
                "and named persons), screened against the active sanctions and watch lists; "
                "stored as sent",
                "items": _PARTY,
            },
        },
    },
    "Assessment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "reasons": {
                "type": "array",
                "items": {"type": "string", "enum": ["profile", "ml_score", "random"]},
            },
            "profiles": {"type": "array", "items": {"type": "object"}},
            "ml_score": {"type": ["number", "null"]},
            "screening": {
                "type": ["object", "null"],
                "description": "The declaration's parties screened against the active "
                "sanctions and watch lists (null: no list active): parties (how many), "
                "matches (role, party, list, list_version, entry_id, entry, score, threshold, "
                "reasons; an entry of a confidential list is not named to a reader without "
                "screening.confidential), cleared (judged false positives left out)",
            },
            "trader_rating": {"type": ["number", "null"]},
            "random_selected": {"type": "boolean"},
            "random": {"type": "object"},
            "ml_explanations": {
                "type": "array",
                "description": "Per item: the ML score and the reasons that pushed it up, in "
                "words (with the contribution when the model gives one)",
                "items": {
                    "type": "object",
                    "properties": {
                        "line": {"type": "integer"},
                        "score": {"type": ["number", "null"]},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "control_result": {
                "type": ["object", "null"],
                "description": "The latest version of the control result, with its version "
                "number and the whole history (newest first; each with its reason)",
            },
        },
    },
    "ControlResultIn": {
        "type": "object",
        "required": ["inspected"],
        "properties": {
            "inspected": {"type": "boolean"},
            "compliant": {"type": "boolean"},
            "fraud_type": {"type": "string", "enum": list(FRAUD_TYPES)},
            "revenue_recovered": {"type": "number", "minimum": 0},
            "goods_seized": {"type": "boolean"},
            "critical": {"type": "boolean"},
            "findings": {"type": "string"},
            "reason": {
                "type": "string",
                "description": "Why the result already recorded is corrected: required when "
                "the declaration has a control result and this one differs (the earlier "
                "version is kept in the history)",
            },
        },
    },
}
_REF = {"$ref": "#/components/schemas/Assessment"}
PATHS = {
    "/api/v1/declarations": {
        "post": {
            "summary": "Submit one declaration (or a batch) and receive its channel",
            "description": "Scope declarations:write. A batch is validated as a whole; errors "
            "name the JSON path (declarations[2].items[0].hs_code).",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/DeclarationIn"},
                                {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/DeclarationIn"},
                                },
                                {
                                    "type": "object",
                                    "properties": {
                                        "declarations": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/DeclarationIn"},
                                        }
                                    },
                                },
                            ]
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Assessed",
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    _REF,
                                    {
                                        "type": "object",
                                        "properties": {
                                            "declarations": {"type": "array", "items": _REF}
                                        },
                                    },
                                ]
                            }
                        }
                    },
                },
                **{k: ERROR_RESPONSES[k] for k in ("400", "401", "403", "422")},
                "413": {
                    "description": "The batch has more items than the server takes in one "
                    "request (TOLLGATE_API_BATCH_MAX_ITEMS, 5,000 by default); the message "
                    "names the limit and the size sent",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
    },
    "/api/v1/declarations/{number}": {
        "get": {
            "summary": "A declaration's assessment and control result",
            "description": "Scope declarations:read.",
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "The declaration",
                    "content": {"application/json": {"schema": _REF}},
                },
                **{k: ERROR_RESPONSES[k] for k in ("401", "403", "404")},
            },
        }
    },
    "/api/v1/declarations/{number}/control-result": {
        "post": {
            "summary": "Record the control result of a declaration",
            "description": "Scope control-results:write. Goods seized open a seizure case. "
            "A different result for a declaration that has one is a correction: a new version "
            "with a required reason; the earlier versions are kept. The same result sent again "
            "records nothing.",
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ControlResultIn"}}
                },
            },
            "responses": {
                "201": {
                    "description": "Recorded",
                    "content": {"application/json": {"schema": _REF}},
                },
                **{k: ERROR_RESPONSES[k] for k in ("400", "401", "403", "404", "422")},
            },
        }
    },
}


def init_app(app):
    app.register_blueprint(bp)
    add_paths(app, PATHS, SCHEMAS)
