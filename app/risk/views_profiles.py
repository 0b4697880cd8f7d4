"""Risk profile pages: the rule editor, simulation, life cycle, named lists and KPIs."""

import json
from datetime import UTC, datetime, time

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from app.core import forms, json_input
from app.core.errors import ValidationError
from app.core.params import id_list
from app.core.web import permission_required
from app.extensions import db
from app.risk import profile_versions, profiles, rules, simulation
from app.risk.assessment import fields_catalogue
from app.risk.forms import ActionForm, ListForm, ProfileForm, SimulateForm, StatusForm
from app.risk.models import NamedList, RiskProfile
from app.risk.views import bp
from app.security.models import Unit, User


def _catalog() -> dict:
    return {
        "fields": fields_catalogue(),
        "ops": {
            op: {"label": label, "shape": shape}
            for op, (label, _k, shape) in rules.OPERATORS.items()
        },
        "lists": [
            {"name": nl.name, "kind": nl.kind}
            for nl in db.session.scalars(select(NamedList).order_by(NamedList.name))
        ],
    }


def _recipient_choices(form):
    form.recipient_users.choices = [
        (u.id, f"{u.full_name} ({u.username})")
        for u in db.session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.full_name)
        )
    ]
    form.recipient_units.choices = [
        (u.id, f"{u.code} — {u.name}") for u in db.session.scalars(select(Unit).order_by(Unit.code))
    ]


def _form_data(form) -> dict:
    # Strict and depth-limited: a refusal (too deep, a lone surrogate, not JSON) names the
    # conditions and is shown in the editor like any other error of the rule.
    conditions = json_input.loads(form.conditions_json.data or "null", where="conditions")

    def _when(d):
        return datetime.combine(d, time.min, tzinfo=UTC) if d else None

    return {
        "name": form.name.data,
        "risk_area": form.risk_area.data,
        "assessment": form.assessment.data,
        "channel": form.channel.data,
        "instructions": form.instructions.data,
        "is_sensitive": form.is_sensitive.data,
        "recipients": {
            "users": form.recipient_users.data or [],
            "units": form.recipient_units.data or [],
            "roles": form.recipient_roles.data or [],
        },
        "valid_from": _when(form.valid_from.data),
        "valid_to": _when(form.valid_to.data),
        "conditions": conditions,
    }


def _editor(form, profile=None, errors=None, draft=None):
    errors = profile_versions.errors_in_words(errors or {})
    for key, message in errors.items():
        field = getattr(form, key.split(".")[0], None) if "." not in key else None
        if field is not None and key != "conditions" and isinstance(field.errors, list):
            field.errors.append(message)
    return render_template(
        "risk/profile_form.html",
        form=form,
        profile=profile,
        draft=draft,
        catalog=_catalog(),
        errors=errors,
    )


@bp.get("/profiles")
@permission_required("risk.profile.view")
def profiles_list():
    status = request.args.get("status", "")
    stmt = select(RiskProfile).order_by(RiskProfile.code)
    if status in ("draft", "simulated", "active", "retired"):
        stmt = stmt.where(RiskProfile.status == status)
    rows = db.session.scalars(stmt).all()
    stats = profiles.profile_stats([p.id for p in rows])
    return render_template(
        "risk/profiles.html",
        rows=rows,
        stats=stats,
        status=status,
        blank=profiles.empty_stats(),
        describe=rules.describe,
        shown_status=profile_versions.shown_status,
    )


@bp.route("/profiles/new", methods=["GET", "POST"])
@permission_required("risk.profile.edit")
def profile_new():
    form = ProfileForm()
    _recipient_choices(form)
    errors = {}
    if form.validate_on_submit():
        done = _save(form, lambda f: profiles.create_profile(_form_data(f), actor=g.actor))
        if done:
            profile = done.value
            flash(
                f"Profile {profile.code} saved as a draft. Simulate it before activating.", "info"
            )
            return redirect(url_for("risk.profile_detail", profile_id=profile.id))
        errors = _first(done.errors)
    elif request.method == "GET":
        form.conditions_json.data = json.dumps({"join": "and", "conditions": []})
    return _editor(form, errors=errors), 422 if errors else 200


@bp.route("/profiles/<int:profile_id>/edit", methods=["GET", "POST"])
@permission_required("risk.profile.edit")
def profile_edit(profile_id):
    profile = profiles.get_profile(profile_id)
    draft = profile_versions.pending_draft(profile)
    # An active profile is edited as its next version: from the draft when one is written.
    source = _Values(draft.snapshot) if draft else profile
    form = ProfileForm(obj=None if request.method == "POST" else source)
    _recipient_choices(form)
    errors = {}
    if form.validate_on_submit():
        done = _save(
            form, lambda f: profiles.update_profile(profile.id, _form_data(f), actor=g.actor)
        )
        errors = _first(done.errors)
        if done:
            if profile.draft_version is not None:
                flash(
                    f"Saved as the draft of version {profile.draft_version}; version "
                    f"{profile.version} keeps firing until the draft is simulated and "
                    "activated.",
                    "info",
                )
            else:
                flash("Profile saved (new version).", "info")
            return redirect(url_for("risk.profile_detail", profile_id=profile.id))
    elif request.method == "GET":
        recipients = source.recipients or {}
        form.recipient_users.data = recipients.get("users", [])
        form.recipient_units.data = recipients.get("units", [])
        form.recipient_roles.data = recipients.get("roles", [])
        form.valid_from.data = source.valid_from_dt.date() if source.valid_from_dt else None
        form.valid_to.data = source.valid_to_dt.date() if source.valid_to_dt else None
        form.conditions_json.data = json.dumps(source.conditions)
    return _editor(form, profile, errors, draft), 422 if errors else 200


def _save(form, action):
    """The editor places a rule's errors by path (``_editor``): submit leaves them to it."""
    return forms.submit(form, action, validate=False, show=False)


def _first(errors: dict) -> dict:
    return {key: messages[0] for key, messages in errors.items()}


class _Values:
    """A version's snapshot with the profile's attribute names (to fill the editor)."""

    def __init__(self, snapshot: dict):
        for key, value in profile_versions.values_from_snapshot(snapshot).items():
            setattr(self, key, value)


@bp.post("/profiles/preview")
@permission_required("risk.profile.edit")
def profile_preview():
    """The editor's live check: the rule as a sentence, or the errors by path."""
    try:
        # Inside the try: a body refused as JSON (too deep, a lone surrogate) is shown like
        # any other error of the rule.
        tree = request.get_json(silent=True)
        normal = rules.validate(tree, lists=profiles.list_kinds())
    except ValidationError as exc:
        return jsonify({"ok": False, "errors": profile_versions.errors_in_words(exc.fields)})
    return jsonify({"ok": True, "sentence": rules.describe(normal)})


@bp.get("/profiles/<int:profile_id>")
@permission_required("risk.profile.view")
def profile_detail(profile_id):
    profile = profiles.get_profile(profile_id)
    stats = profiles.profile_stats([profile.id]).get(profile.id, profiles.empty_stats())
    owner = db.session.get(User, profile.owner_id) if profile.owner_id else None
    draft = profile_versions.pending_draft(profile)
    author_id = draft.changed_by_id if draft else (profile.author_id or profile.owner_id)
    return render_template(
        "risk/profile.html",
        profile=profile,
        stats=stats,
        owner=owner,
        sentence=rules.describe(profile.conditions),
        draft=draft,
        draft_sentence=rules.describe(draft.snapshot["conditions"]) if draft else None,
        shown_status=profile_versions.shown_status(profile),
        may_activate=profile_versions.may_activate(g.actor, author_id),
        four_eyes=profile_versions.four_eyes(),
        sim_form=SimulateForm(),
        status_form=StatusForm(),
        action_form=ActionForm(),
        transitions=profiles.TRANSITIONS.get(profile.status, ()),
        recipients=_recipient_names(profile.recipients or {}),
    )


@bp.get("/profiles/<int:profile_id>/versions/<int:version>")
@permission_required("risk.profile.view")
def profile_version(profile_id, version):
    """One version as it was saved: its rule, fields, who wrote and who activated it."""
    profile = profiles.get_profile(profile_id)
    row = profile_versions.get_version(profile.id, version)
    return render_template(
        "risk/profile_version.html",
        profile=profile,
        row=row,
        snap=row.snapshot,
        sentence=rules.describe(row.snapshot.get("conditions")),
        recipients=_recipient_names(row.snapshot.get("recipients") or {}),
        action_form=ActionForm(),
    )


@bp.post("/profiles/<int:profile_id>/versions/<int:version>/restore")
@permission_required("risk.profile.edit")
def profile_restore(profile_id, version):
    """An earlier version becomes a new draft (history is never rewritten)."""
    form = ActionForm()
    profiles.get_profile(profile_id)
    done = form.validate_on_submit() and _save(
        form, lambda f: profiles.restore_version(profile_id, version, actor=g.actor)
    )
    if done:
        new = done.value.draft_version or done.value.version
        flash(f"Version {version} restored as version {new} (a draft).", "info")
    elif done is not False:  # the rule of that version is no longer valid: say why, in words
        words = profile_versions.errors_in_words(_first(done.errors))
        flash("; ".join(words.values()), "error")
    return redirect(url_for("risk.profile_detail", profile_id=profile_id))


@bp.post("/profiles/<int:profile_id>/discard-draft")
@permission_required("risk.profile.edit")
def profile_discard_draft(profile_id):
    """Drop the next version of an active profile; the active one keeps firing."""
    form = ActionForm()
    profiles.get_profile(profile_id)
    if form.validate_on_submit() and _act(
        form, lambda f: profiles.discard_next_version(profile_id, actor=g.actor)
    ):
        flash("The next version was discarded; the active version keeps firing.", "info")
    return redirect(url_for("risk.profile_detail", profile_id=profile_id))


@bp.post("/profiles/<int:profile_id>/activate")
@permission_required("risk.profile.approve")
def profile_activate(profile_id):
    """Activate a simulated profile, or swap an active one's simulated next version in
    (with four-eyes activation: by someone other than its author)."""
    form = ActionForm()
    profiles.get_profile(profile_id)
    done = form.validate_on_submit() and _act(
        form, lambda f: profiles.activate(profile_id, actor=g.actor)
    )
    if done:
        flash(f"Profile {done.value.code} version {done.value.version} is active.", "info")
    return redirect(url_for("risk.profile_detail", profile_id=profile_id))


def _act(form, action):
    """A validated action form's service call; its refusal flashed (the page redirects)."""
    return forms.submit(form, action, validate=False, redirecting=True)


def _recipient_names(recipients: dict) -> list[str]:
    names = [
        u.full_name for u in (db.session.get(User, i) for i in recipients.get("users", [])) if u
    ]
    names += [
        f"unit {u.code}"
        for u in (db.session.get(Unit, i) for i in recipients.get("units", []))
        if u
    ]
    names += [f"role {r}" for r in recipients.get("roles", [])]
    return names


@bp.post("/profiles/<int:profile_id>/status")
@permission_required("risk.profile.edit")
def profile_status(profile_id):
    form = StatusForm()
    profiles.get_profile(profile_id)
    done = form.validate_on_submit() and _act(
        form, lambda f: profiles.set_status(profile_id, f.status.data, actor=g.actor)
    )
    if done:
        flash(f"Profile {done.value.code} is now {done.value.status}.", "info")
    return redirect(url_for("risk.profile_detail", profile_id=profile_id))


@bp.post("/profiles/<int:profile_id>/simulate")
@permission_required("risk.profile.edit")
def profile_simulate(profile_id):
    profile = profiles.get_profile(profile_id)
    form = SimulateForm()
    result = None
    if form.validate_on_submit():
        done = _act(
            form,
            lambda f: simulation.run_simulation(
                [profile.id], f.date_from.data, f.date_to.data, actor=g.actor, drafts=True
            ),
        )
        if not done:
            return redirect(url_for("risk.profile_detail", profile_id=profile.id))
        result = done.value
    return render_template(
        "risk/simulation.html",
        results=[(profile, result["profiles"][profile.id])] if result else [],
        combined=result["combined"] if result else None,
        form=form,
        choices=[],
        selected=[profile.id],
    )


@bp.get("/simulation")
@permission_required("risk.profile.view")
def simulation_page():
    """Side-by-side simulation of chosen profiles (drafts or the whole active set)."""
    form = SimulateForm(request.args, meta={"csrf": False})
    choices = db.session.scalars(
        select(RiskProfile).where(RiskProfile.status != "retired").order_by(RiskProfile.code)
    ).all()
    selected = id_list(request.args.getlist("profiles"), "profiles")  # others are ignored
    if request.args.get("set") == "active":
        selected = [p.id for p in choices if p.status == "active"]
    results, combined = [], None
    if selected and form.validate():
        done = _act(
            form,
            lambda f: simulation.run_simulation(
                selected, f.date_from.data, f.date_to.data, actor=g.actor, record=False
            ),
        )
        if done:
            out = done.value
            results = [(p, out["profiles"][p.id]) for p in out["rows"]]
            combined = out["combined"] if len(results) > 1 else None
    return render_template(
        "risk/simulation.html",
        results=results,
        combined=combined,
        form=form,
        choices=choices,
        selected=selected,
    )


@bp.get("/lists")
@permission_required("risk.profile.view")
def lists():
    rows = db.session.scalars(select(NamedList).order_by(NamedList.name)).all()
    return render_template("risk/lists.html", rows=rows, form=ListForm())


@bp.post("/lists")
@permission_required("risk.profile.edit")
def list_save():
    form = ListForm()
    done = forms.submit(
        form,
        lambda f: profiles.save_list(
            f.name.data,
            f.kind.data,
            f.values.data,
            description=f.description.data or "",
            actor=g.actor,
        ),
    )
    if done:
        flash(f"List “{done.value.name}” saved ({len(done.value.values)} values).", "info")
        return redirect(url_for("risk.lists"))
    rows = db.session.scalars(select(NamedList).order_by(NamedList.name)).all()
    return render_template("risk/lists.html", rows=rows, form=form), 422


@bp.get("/editor-catalog")
@permission_required("risk.profile.view")
def editor_catalog():
    return jsonify(_catalog())
