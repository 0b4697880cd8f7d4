"""Entity resolution queue: candidates, the analyst's judgement, merges and their undo."""

from flask import abort, flash, g, redirect, render_template, request, url_for

from app.core import forms
from app.core.errors import ValidationError
from app.core.params import id_arg, id_value
from app.core.web import permission_required
from app.intel import resolution, service
from app.intel.forms import ConfirmForm, DecisionForm
from app.intel.views import bp


@bp.get("/resolution")
@permission_required("entity.merge")
def resolution_queue():
    judgement = request.args.get("judgement") or None
    if judgement not in (None, "merge", "not_same", "unsure", "all"):
        judgement = None
    matches = resolution.pending_matches(g.actor, judgement=judgement)
    entity_id = id_arg(request.args, "entity")  # text that is not an id is ignored
    if entity_id is not None:
        matches = [m for m in matches if entity_id in (m.entity_a_id, m.entity_b_id)] or matches
    # The queue shows pairs of names and their shared identifiers: a consultation.
    service.record_search(
        g.actor,
        "entity",
        f"resolution queue: {judgement or 'pending'}"
        + (f", entity {entity_id}" if entity_id is not None else ""),
        results=len(matches),
    )
    return render_template(
        "intel/resolution.html",
        matches=matches,
        comparisons={
            m.id: resolution.compare_pair(g.actor, m.entity_a, m.entity_b) for m in matches
        },
        judgement=judgement,
        form=DecisionForm(formdata=None),
        confirm=ConfirmForm(),
        judgements=resolution.JUDGEMENTS,
    )


def _pair(form) -> tuple[int, int, int | None]:
    """The ids the queue page wrote in hidden inputs: one that is not an id is a forged
    request (400), not something the analyst can correct."""
    try:
        a = id_value(form.entity_a.data, "entity_a", strict=True)
        b = id_value(form.entity_b.data, "entity_b", strict=True)
        survivor = id_value(form.survivor.data, "survivor")
    except ValidationError:
        abort(400)
    if a is None or b is None:
        abort(400)
    return a, b, survivor


@bp.post("/resolution/decide")
@permission_required("entity.merge")
def resolution_decide():
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    a, b, survivor = _pair(form)
    done = forms.submit(
        form,
        lambda f: resolution.decide(a, b, f.judgement.data, actor=g.actor, survivor_id=survivor),
        validate=False,
        redirecting=True,
    )
    if not done:
        return redirect(url_for("intel.resolution_queue"))
    result = done.value
    if form.judgement.data == "merge":
        flash(
            "Merged. Every link, alias and identifier moved; the merge can be undone from "
            "the entity page.",
            "info",
        )
        return redirect(url_for("intel.entity_detail", entity_id=result.survivor_id))
    flash(f"Recorded: {resolution.JUDGEMENTS[form.judgement.data]}.", "info")
    return redirect(url_for("intel.resolution_queue"))


@bp.post("/entities/<int:entity_id>/candidates")
@permission_required("entity.merge")
def entity_candidates_refresh(entity_id):
    """Look for candidates again (e.g. after new entities were imported)."""
    ConfirmForm().validate_on_submit() or abort(400)
    entity = service.get_entity(entity_id, actor=g.actor, log=False)
    found = resolution.propose_candidates(entity)
    flash(f"{len(found)} candidate(s).", "info")
    return redirect(url_for("intel.resolution_queue", entity=entity.id))
