"""Screening hits for analysts: the list of hits, a hit with its judgement form, and the API.

Thin: reading and judging go through ``app.screening.judgements`` (need-to-know, trail)."""

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.api import json_body, require_scope
from app.core.errors import ValidationError
from app.core.openapi import ERROR_RESPONSES, page_parameters
from app.core.pagination import paginate
from app.core.registry import NavItem, add_nav_item
from app.core.time import as_utc
from app.core.web import permission_required
from app.extensions import csrf
from app.screening import judgements
from app.screening.judgements import VERDICTS
from app.security.seams import list_entry_label

bp = Blueprint("screening_hits", __name__, url_prefix="/screening")
api_bp = Blueprint("screening_hits_api", __name__, url_prefix="/api/v1/screening")
csrf.exempt(api_bp)


class JudgeForm(FlaskForm):
    verdict = SelectField("Verdict", choices=list(VERDICTS.items()))
    note = TextAreaField("Why", validators=[Optional(), Length(max=judgements.MAX_NOTE)])
    merge = BooleanField("Merge the list entry into the registry entity (true match only)")


def hit_url(hit_id: int) -> str:
    return url_for("screening_hits.hit", hit_id=hit_id)


def hit_json(hit, reader) -> dict:
    """A hit as ``reader`` may read it (the subject named through the seam)."""
    return {
        "id": hit.id,
        "subject": {
            "type": hit.subject_type,
            "id": hit.subject_id,
            "label": judgements.subject_label(reader, hit),
        },
        "role": hit.role,
        "party": hit.party,
        "list": {
            "id": hit.list_id,
            "name": list_entry_label(reader, hit.sensitivity, hit.list_name),
            "version": hit.list_version,
            "sensitivity": hit.sensitivity,
        },
        "entry": {"id": hit.entry_id, "caption": hit.entry_caption},
        "score": hit.score,
        "threshold": hit.threshold,
        "reasons": hit.reasons,
        "judged": hit.judgement_id is not None,
        "created": as_utc(hit.created_dt).isoformat(),
    }


def judgement_json(j) -> dict:
    return {
        "id": j.id,
        "verdict": j.verdict,
        "note": j.note,
        "judged_by": j.judged_by,
        "judged": as_utc(j.judged_dt).isoformat(),
        "merged_entity_id": j.merged_entity_id,
    }


def _status() -> str:
    return request.args.get("status", "open")


# --- pages ---------------------------------------------------------------------------------


@bp.get("/hits")
@permission_required("screening.view")
def hits():
    status = _status()
    stmt = judgements.hits_query(g.actor, status=status)
    page = paginate(stmt, request.args)
    judgements.record_list(g.actor, status, page.total)
    return render_template(
        "screening/hits.html",
        page=page,
        status=status,
        statuses=judgements.HIT_STATUSES,
        labels={h.id: judgements.subject_label(g.actor, h) for h in page.items},
        list_label=list_entry_label,
        pending=judgements.pending_hits(g.actor),
    )


@bp.get("/hits/<int:hit_id>")
@permission_required("screening.view")
def hit(hit_id):
    found = judgements.get_hit(hit_id, actor=g.actor)
    return _hit_page(found, JudgeForm())


def _hit_page(found, form, status=200):
    return (
        render_template(
            "screening/hit.html",
            hit=found,
            subject=judgements.subject_label(g.actor, found),
            history=judgements.judgements_of(found),
            verdicts=VERDICTS,
            form=form,
            list_label=list_entry_label,
        ),
        status,
    )


@bp.post("/hits/<int:hit_id>/judge")
@permission_required("screening.judge")
def judge(hit_id):
    form = JudgeForm()
    if not form.validate():
        found = judgements.get_hit(hit_id, actor=g.actor)
        flash("Not judged: check the form.", "error")
        return _hit_page(found, form, 422)
    try:
        judgements.judge(
            hit_id, form.verdict.data, form.note.data or "", actor=g.actor, merge=form.merge.data
        )
    except ValidationError as exc:
        found = judgements.get_hit(hit_id, actor=g.actor, log=False)
        for where, message in exc.fields.items():
            flash(f"Not judged: {where}: {message}", "error")
        return _hit_page(found, form, 422)
    flash(f"Judged: {VERDICTS[form.verdict.data].lower()}.", "success")
    return redirect(url_for("screening_hits.hit", hit_id=hit_id))


# --- API -----------------------------------------------------------------------------------


@api_bp.get("/hits")
@require_scope("screening:read")
def api_hits():
    status = _status()
    stmt = judgements.hits_query(g.actor, status=status)
    page = paginate(stmt, request.args, strict=True)
    judgements.record_list(g.actor, status, page.total)
    pending = judgements.pending_hits(g.actor)
    return jsonify(
        items=[hit_json(h, g.actor) for h in page.items],
        total=page.total,
        page=page.page,
        per_page=page.per_page,
        pending=pending and {**pending, "oldest": pending["oldest"].isoformat()},
    )


@api_bp.get("/hits/<int:hit_id>")
@require_scope("screening:read")
def api_hit(hit_id):
    found = judgements.get_hit(hit_id, actor=g.actor)
    return jsonify(
        {**hit_json(found, g.actor), "judgements": [judgement_json(j) for j in
                                                     judgements.judgements_of(found)]}
    )  # fmt: skip


@api_bp.post("/hits/<int:hit_id>/judgement")
@require_scope("screening:write")
def api_judge(hit_id):
    body = json_body(dict)
    for key, kind in (("verdict", str), ("note", str), ("merge", bool)):
        if key in body and not isinstance(body[key], kind):
            raise ValidationError({key: f"must be a {'boolean' if kind is bool else 'string'}"})
    judgement = judgements.judge(
        hit_id,
        body.get("verdict"),
        body.get("note") or "",
        actor=g.actor,
        merge=bool(body.get("merge")),
    )
    return jsonify(judgement_json(judgement)), 201


# --- OpenAPI --------------------------------------------------------------------------------

_ID = {"name": "hit_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_STATUS = {
    "name": "status",
    "in": "query",
    "schema": {"enum": list(judgements.HIT_STATUSES), "default": "open"},
}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    return {c: ERROR_RESPONSES[c] for c in codes}


OPENAPI_SCHEMAS = {
    "ScreeningHit": {
        "type": "object",
        "description": "A party (of a declaration, or a registry entity) matched a list entry; "
        "a confidential list is named only to holders of screening.confidential",
        "properties": {
            "id": {"type": "integer"},
            "subject": {"type": "object"},
            "role": {"type": ["string", "null"]},
            "party": {"type": "object"},
            "list": {"type": "object"},
            "entry": {"type": "object"},
            "score": {"type": "number"},
            "threshold": {"type": "number"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "judged": {"type": "boolean"},
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "ScreeningJudgementIn": {
        "type": "object",
        "required": ["verdict"],
        "properties": {
            "verdict": {"enum": list(VERDICTS)},
            "note": {"type": "string", "maxLength": judgements.MAX_NOTE},
            "merge": {
                "type": "boolean",
                "description": "a true match on a registry entity: attach the list entry to "
                "the entity (attribute screening_matches, trailed); needs entity.edit",
            },
        },
    },
    "ScreeningJudgement": {"type": "object"},
}
OPENAPI_PATHS = {
    "/api/v1/screening/hits": {
        "get": {
            "summary": "Screening hits the client may read (newest first)",
            "description": "Scope screening:read. A declaration's hits are written by the "
            "worker seconds after its assessment (which holds its matches at once): "
            "``pending`` says how many of the declarations the client may read still "
            "have theirs to come, since when, and whether that is ``late`` (the worker "
            "has stopped or fallen behind); null when none.",
            "parameters": [_STATUS, *page_parameters()],
            "responses": {
                "200": _json({"type": "object"}),
                **_errors("401", "403", "422"),
            },
        }
    },
    "/api/v1/screening/hits/{hit_id}": {
        "get": {
            "summary": "A screening hit with the judgements of its party and entry",
            "description": "Scope screening:read.",
            "parameters": [_ID],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/ScreeningHit"}),
                **_errors("401", "403", "404"),
            },
        }
    },
    "/api/v1/screening/hits/{hit_id}/judgement": {
        "post": {
            "summary": "Judge a hit: true match, false positive or unsure",
            "description": "Scope screening:write. A false positive does not fire again "
            "until the party's data or the list entry changes.",
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ScreeningJudgementIn"}
                    }
                },
            },
            "responses": {
                "201": _json({"$ref": "#/components/schemas/ScreeningJudgement"}, "Judged"),
                **_errors("401", "403", "404", "422"),
            },
        }
    },
}


def init_app(app) -> None:
    from app.core.openapi import add_paths

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    add_paths(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    add_nav_item(app, NavItem("Screening hits", "screening_hits.hits", "screening.view", order=35))
