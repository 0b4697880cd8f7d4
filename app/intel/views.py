"""Entity registry pages and the JSON look-up used by entity pickers in other domains."""

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from app.core import forms
from app.core.errors import ValidationError
from app.core.pagination import keyset_paginate
from app.core.params import id_value
from app.core.web import permission_required
from app.extensions import db
from app.intel import provenance, resolution, service
from app.intel.forms import ConfirmForm, EntityForm, LinkForm, format_pairs, parse_pairs
from app.intel.models import ENTITY_TYPES, LINK_TYPES, Entity
from app.search.registry import search_sources
from app.security.access import NotFound

bp = Blueprint("intel", __name__, url_prefix="/intel")


@bp.get("/entities/lookup")
@permission_required("entity.view")
def entity_lookup():
    """Picker back-end: [{"id", "type", "name", "identifiers"}] of visible entities."""
    types = [t for t in request.args.getlist("type") if t in ENTITY_TYPES] or None
    q = request.args.get("q", "")
    found = service.find_entities(q, actor=g.actor, types=types, limit=20)
    if q.strip():  # an empty query consults nothing (the picker answers [])
        service.record_search(g.actor, "entity", q, lookup=True, results=len(found))
    return jsonify([service.entity_summary(e) for e in found])


@bp.get("/records/lookup")
@permission_required("entity.view")
def record_lookup():
    """Picker back-end of a link's provenance: [{"id", "type", "name", "identifiers"}] of the
    records of one type (case, report ...) the user may open, found by reference or words
    through the search service (need-to-know, one trail row); [] without a type or query."""
    rtype = request.args.get("type", "")
    q = request.args.get("q", "").strip()
    sources = search_sources(current_app)
    if rtype not in provenance.CHOOSABLE or rtype not in sources or len(q) < 2:
        return jsonify([])
    if not g.actor.can("search.use"):
        return jsonify([])
    from app.search import service as search_service

    kind = provenance.CHOOSABLE[rtype]
    hits = search_service.search(g.actor, q, types=[rtype], per_page=10).hits
    return jsonify([{"id": h.record_id, "type": kind, "name": h.title} for h in hits])


@bp.get("/entities")
@permission_required("entity.view")
def entities():
    q = request.args.get("q", "").strip()
    etype = request.args.get("type", "")
    types = [etype] if etype in ENTITY_TYPES else None
    if q:
        found = service.find_entities(q, actor=g.actor, types=types, limit=200)
        stmt = service.entity_query(g.actor).where(Entity.id.in_([e.id for e in found]))
    else:
        stmt = service.entity_query(g.actor, types=types)
    # by key: the next page seeks past the last name shown (deep pages cost what page 1 does)
    page = keyset_paginate(stmt, request.args, [(Entity.name, False), (Entity.id, False)])
    if q:
        service.record_search(g.actor, "entity", q, type=etype or None, results=page.total)
    return render_template("intel/entities.html", page=page, q=q, etype=etype, types=ENTITY_TYPES)


@bp.route("/entities/new", methods=["GET", "POST"])
@permission_required("entity.edit")
def entity_new():
    form = EntityForm()
    existing = None
    done = forms.submit(form, _register)
    if done and done.value.kind == "merge":
        flash("Merged into the existing entity; undo it from its merge history.", "info")
        return redirect(url_for("intel.entity_detail", entity_id=done.value.id))
    if done:
        flash(f"{done.value.label} registered.", "info")
        return redirect(url_for("intel.entity_detail", entity_id=done.value.id))
    if isinstance(done.error, service.DuplicateIdentifier):
        existing = service.get_entity(done.error.existing.id, actor=g.actor, log=False)
    elif done.error is not None:
        existing = _offered(request.form.get("existing_id"))
    return render_template("intel/entity_form.html", form=form, entity=None, existing=existing)


@dataclass
class _Registered:
    kind: str  # "merge": joined an existing entity; "new"
    id: int
    label: str = ""


def _register(form) -> _Registered:
    values = {
        "entity_type": form.entity_type.data,
        "name": form.name.data,
        "aliases": form.aliases.data.splitlines() if form.aliases.data else (),
        "identifiers": parse_pairs(form.identifiers.data, "identifiers"),
        "attributes": parse_pairs(form.attributes.data, "attributes"),
        "handling_code": form.handling_code.data,
        "handling_conditions": form.handling_conditions.data,
    }
    if request.form.get("action") == "merge":
        # an identifier already held: the record joins the existing entity (a merge)
        merge = resolution.register_into(
            id_value(request.form.get("existing_id"), "existing_id"),
            actor=g.actor,
            reason=form.duplicate_reason.data,
            **values,
        )
        return _Registered("merge", merge.survivor_id)
    entity = service.create_entity(
        actor=g.actor, duplicate_reason=form.duplicate_reason.data, **values
    )
    return _Registered("new", entity.id, f"{entity.type_label} {entity.name}")


def _offered(existing_id):
    """The existing entity offered again after a refused merge or registration (the reason
    was missing): only one the user may see, else nothing is offered."""
    if not existing_id or request.form.get("action") not in ("merge", "register"):
        return None
    try:
        return service.get_entity(id_value(existing_id, "existing_id"), actor=g.actor, log=False)
    except (NotFound, ValidationError):
        return None


def _mentions_by_type(entity):
    """Mentions grouped by record type, limited to records the actor may open."""
    sources = search_sources(current_app)
    grouped = {}
    for m in service.mentions_of(entity):
        grouped.setdefault(m.record_type, []).append(m)
    out = []
    for record_type, mentions in grouped.items():
        source = sources.get(record_type)
        if source is None or not g.actor.can(source.permission):
            continue
        visible = set(source.visible_ids(g.actor, [m.record_id for m in mentions]))
        docs = {d.record_id: d for d in source.documents(sorted(visible))}
        rows = [
            (m, docs.get(m.record_id), source.url(m.record_id))
            for m in mentions
            if m.record_id in visible
        ]
        if rows:
            out.append((source.label, rows))
    return out


@bp.get("/entities/<int:entity_id>")
@permission_required("entity.view")
def entity_detail(entity_id):
    entity = service.get_entity(entity_id, actor=g.actor)
    survivor, survivor_hidden = service.survivor_for(entity, actor=g.actor)
    links = service.links_of(entity, actor=g.actor)
    candidates = []
    if g.actor.can("entity.merge") and not entity.merged_into_id:
        candidates = [
            (other, score, reasons, resolution.judgement_for(entity.id, other.id))
            for other, score, reasons in resolution.candidates_for(entity)
            if service.can_see(g.actor, other)
        ]
    return render_template(
        "intel/entity.html",
        entity=entity,
        survivor=survivor,
        survivor_hidden=survivor_hidden,
        links=links,
        mentions=_mentions_by_type(entity),
        candidates=candidates,
        merges=resolution.merges_for(entity, actor=g.actor),
        provenance={
            lk.id: provenance.shown(g.actor, lk.provenance_type, lk.provenance_id) for lk in links
        },
        first_asserted=provenance.shown(g.actor, entity.provenance_type, entity.provenance_id),
        watching=_watching(entity),
        link_form=LinkForm(formdata=None),
        confirm=ConfirmForm(),
        link_types=LINK_TYPES,
        pairs=format_pairs,
    )


def _watching(entity) -> bool | None:
    """Whether the user watches the entity (None: they may not manage watches)."""
    if not g.actor.can("alert.manage"):
        return None
    from app.alerts import watches

    return any(w.entity_id == entity.id for w in watches.list_watches(g.actor))


@bp.post("/entities/<int:entity_id>/watch")
@permission_required("alert.manage")
def entity_watch(entity_id):
    """The Watch button: an entity watch of the user's own, through the alerts service."""
    from app.alerts import watches

    entity = service.get_entity(entity_id, actor=g.actor, log=False)
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    if _act(form, lambda f: watches.watch_entity(g.actor, entity.id)):
        flash(f"You now watch {entity.name}: new records and links raise an alert.", "info")
    return redirect(url_for("intel.entity_detail", entity_id=entity_id))


@bp.route("/entities/<int:entity_id>/edit", methods=["GET", "POST"])
@permission_required("entity.edit")
def entity_edit(entity_id):
    entity = service.get_entity(entity_id, actor=g.actor, log=False)
    form = EntityForm(obj=entity) if request.method == "GET" else EntityForm()
    del form.entity_type  # the type of an entity does not change
    if request.method == "GET":
        form.aliases.data = "\n".join(entity.aliases or [])
        form.identifiers.data = format_pairs(entity.identifiers)
        form.attributes.data = format_pairs(entity.attributes)
    done = forms.submit(
        form,
        lambda f: service.update_entity(
            entity,
            actor=g.actor,
            name=f.name.data,
            aliases=f.aliases.data.splitlines() if f.aliases.data else [],
            identifiers=parse_pairs(f.identifiers.data, "identifiers"),
            attributes=parse_pairs(f.attributes.data, "attributes"),
            handling_code=f.handling_code.data,
            handling_conditions=f.handling_conditions.data or "",
        ),
    )
    if done:
        flash("Entity saved.", "info")
        return redirect(url_for("intel.entity_detail", entity_id=entity.id))
    if done.error is not None:  # rolled back: the page shows the entity as stored
        entity = service.get_entity(entity_id, actor=g.actor, log=False)
    return render_template("intel/entity_form.html", form=form, entity=entity)


@bp.post("/entities/<int:entity_id>/links")
@permission_required("entity.edit")
def link_add(entity_id):
    entity = service.get_entity(entity_id, actor=g.actor, log=False)
    form = LinkForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "error")
        return redirect(url_for("intel.entity_detail", entity_id=entity.id))
    source, target = entity.id, form.target_id.data
    if form.direction.data == "in":
        source, target = target, source

    def add(f):
        prov_type, prov_id = provenance.checked(
            g.actor, f.provenance_type.data or None, f.provenance_id.data
        )
        service.add_link(
            source,
            target,
            f.link_type.data,
            actor=g.actor,
            provenance_type=prov_type,
            provenance_id=prov_id,
            start_date=f.start_date.data,
            end_date=f.end_date.data,
            grade=f.grade.data,
            handling_code=f.handling_code.data,
        )

    if _act(form, add):
        flash("Link added.", "info")
    return redirect(url_for("intel.entity_detail", entity_id=entity_id))


@bp.post("/links/<int:link_id>/edit")
@permission_required("entity.edit")
def link_edit(link_id):
    """Correct a link or end it (today unless a date is given); trailed, versioned."""
    from app.intel import links as link_service
    from app.intel.forms import LinkEditForm

    link = link_service.visible_link(link_id, actor=g.actor)
    back = url_for("intel.entity_detail", entity_id=link.source_id)
    form = LinkEditForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "error")
        return redirect(back)

    def change(f):
        if f.action.data == "end":
            link_service.end_link(
                link.id, actor=g.actor, reason=f.reason.data, end_date=f.end_date.data
            )
        else:
            link_service.update_link(
                link.id,
                actor=g.actor,
                reason=f.reason.data,
                link_type=f.link_type.data,
                start_date=f.start_date.data,
                end_date=f.end_date.data,
                grade=f.grade.data or None,
            )

    if _act(form, change):
        flash("Link ended." if form.action.data == "end" else "Link corrected.", "info")
    return redirect(back)


@bp.post("/merges/<int:merge_id>/undo")
@permission_required("entity.merge")
def merge_undo(merge_id):
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    done = _act(form, lambda f: resolution.undo_merge(merge_id, actor=g.actor))
    if not done:
        return redirect(url_for("intel.resolution_queue"))
    row = done.value
    flash("Merge undone: links, aliases and identifiers are back where they were.", "info")
    return redirect(url_for("intel.entity_detail", entity_id=row.merged_id))


def _act(form, action):
    """A validated form's service call; a refusal is flashed (the view redirects)."""
    return forms.submit(form, action, validate=False, redirecting=True)


def entity_names(ids) -> dict[int, str]:
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    return dict(db.session.execute(select(Entity.id, Entity.name).where(Entity.id.in_(ids))).all())


@bp.route("/import", methods=["GET", "POST"])
@permission_required("entity.edit")
def import_csv():
    from app.intel import importer
    from app.intel.forms import ImportForm

    form = ImportForm()
    summary, row_errors = None, None
    if form.validate_on_submit():
        # The rows' errors are listed by the page (show=False).
        done = forms.submit(
            form,
            lambda f: importer.import_csv(
                f.file.data.read(),
                f.kind.data,
                actor=g.actor,
                mapping=importer.parse_mapping(f.mapping.data),
                default_type=f.entity_type.data,
                handling_code=f.handling_code.data,
            ),
            validate=False,
            show=False,
        )
        summary = done.value
        row_errors = done.first_errors()
        if done:
            flash(
                f"Imported {summary.rows} rows: {len(summary.created)} new entities, "
                f"{len(summary.reused)} matched by identifier, {len(summary.links)} links, "
                f"{summary.candidates} resolution candidates to review.",
                "info",
            )
    return render_template("intel/import.html", form=form, summary=summary, row_errors=row_errors)
