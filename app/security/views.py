"""Sign-in, sign-out, administration of users, units and API clients, and the trail."""

from datetime import UTC, datetime, time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from app.core import forms
from app.core.exports import csv_response
from app.core.pagination import paginate
from app.core.params import add_days
from app.core.web import SESSION_KEY, login_required, permission_required, safe_next_url
from app.extensions import db
from app.security import service, throttle, trail
from app.security.forms import (
    ApiClientForm,
    ConfirmForm,
    LoginForm,
    TrailExportForm,
    UnitForm,
    UserForm,
)
from app.security.models import ApiClient, Unit, User
from app.security.roles import API_SCOPES, PERMISSIONS, ROLE_LABELS, ROLE_PERMISSIONS
from app.security.trail import AccessEvent
from app.security.trail_scope import restrict, scope_for, units_for

bp = Blueprint("security", __name__)


def _generic_failure() -> str:
    # One message for every refusal (unknown name, wrong password, locked account).
    return (
        "Sign-in failed. Check your username and password. After "
        f"{current_app.config['TOLLGATE_MAX_FAILED_LOGINS']} failed attempts an account is "
        "locked for a while."
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next_url(request.args.get("next"), url_for("core.home"))
    if form.validate_on_submit():
        user = service.authenticate(
            form.username.data,
            form.password.data,
            client_addr=request.remote_addr,
            config=current_app.config,
        )
        if user is None:
            db.session.commit()  # keep the failed-attempt count and its trail row
            throttle.mark_sign_in_failed()  # counts against this address (429 past the limit)
            flash(_generic_failure(), "error")
            return render_template("security/login.html", form=form), 200
        # Session renewal: nothing from the anonymous session survives sign-in.
        old = session.get(SESSION_KEY)
        session.clear()
        service.end_session(old)
        session[SESSION_KEY] = service.start_session(user, request.remote_addr)
        db.session.commit()
        return redirect(next_url)
    return render_template("security/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    ConfirmForm().validate_on_submit() or abort(400)
    service.end_session(session.get(SESSION_KEY), g.actor)
    session.clear()
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("security.login"))


# --- administration -----------------------------------------------------------------


def _unit_choices():
    return [
        (u.id, f"{u.code} — {u.name}") for u in db.session.scalars(select(Unit).order_by(Unit.code))
    ]


@bp.get("/admin/users")
@permission_required("admin.users")
def admin_users():
    users = db.session.scalars(select(User).order_by(User.username)).all()
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    matrix = [(role, label, ROLE_PERMISSIONS[role]) for role, label in ROLE_LABELS.items()]
    return render_template(
        "security/admin_users.html",
        users=users,
        units=units,
        matrix=matrix,
        permissions=PERMISSIONS,
        confirm=ConfirmForm(),
        now=datetime.now(UTC),
    )


def _fill_user_form(form):
    form.unit_id.choices = _unit_choices()
    form.supervisor_id.choices = [(0, "— none —")] + [
        (u.id, f"{u.full_name} ({u.username})")
        for u in db.session.scalars(select(User).order_by(User.full_name))
    ]


def _create_user(form):
    user = service.create_user(
        form.username.data,
        form.password.data or "",
        full_name=form.full_name.data,
        unit=db.session.get(Unit, form.unit_id.data),
        roles=form.roles.data,
        email=form.email.data or None,
        actor=g.actor,
    )
    if form.supervisor_id.data:
        user.supervisor_id = form.supervisor_id.data
    return user


@bp.route("/admin/users/new", methods=["GET", "POST"])
@permission_required("admin.users")
def admin_user_new():
    form = UserForm()
    _fill_user_form(form)
    done = forms.submit(form, _create_user)
    if done:
        flash(f"User {done.value.username} created.", "info")
        return redirect(url_for("security.admin_users"))
    return render_template("security/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def admin_user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    _fill_user_form(form)
    if request.method == "GET":
        form.roles.data = user.roles
        form.supervisor_id.data = user.supervisor_id or 0
    done = forms.submit(
        form,
        lambda f: service.update_user(
            user,
            actor=g.actor,
            full_name=f.full_name.data,
            email=f.email.data,
            unit=db.session.get(Unit, f.unit_id.data),
            roles=f.roles.data,
            is_active=f.is_active.data,
            password=f.password.data or None,
            supervisor=db.session.get(User, f.supervisor_id.data) if f.supervisor_id.data else None,
        ),
    )
    if done:
        flash(f"User {user.username} saved.", "info")
        return redirect(url_for("security.admin_users"))
    return render_template("security/user_form.html", form=form, user=user)


@bp.post("/admin/users/<int:user_id>/unlock")
@permission_required("admin.users")
def admin_user_unlock(user_id):
    ConfirmForm().validate_on_submit() or abort(400)
    user = db.get_or_404(User, user_id)
    service.unlock_user(user, actor=g.actor)
    flash(f"User {user.username} unlocked.", "info")
    return redirect(url_for("security.admin_users"))


@bp.route("/admin/units/new", methods=["GET", "POST"])
@permission_required("admin.users")
def admin_unit_new():
    form = UnitForm()
    if forms.submit(
        form, lambda f: service.create_unit(f.code.data, f.name.data, f.kind.data, actor=g.actor)
    ):
        flash("Unit created.", "info")
        return redirect(url_for("security.admin_users"))
    return render_template("security/unit_form.html", form=form)


@bp.route("/admin/clients", methods=["GET", "POST"])
@permission_required("admin.clients")
def admin_clients():
    form = ApiClientForm()
    form.unit_id.choices = _unit_choices()
    new_token = None
    done = forms.submit(
        form,
        lambda f: service.create_api_client(
            f.name.data, db.session.get(Unit, f.unit_id.data), f.scopes.data, actor=g.actor
        ),
    )
    if done:
        _client, new_token = done.value
    clients = db.session.scalars(select(ApiClient).order_by(ApiClient.created_dt.desc())).all()
    return render_template(
        "security/admin_clients.html",
        form=form,
        clients=clients,
        new_token=new_token,
        scopes=API_SCOPES,
        confirm=ConfirmForm(),
    )


@bp.post("/admin/clients/<int:client_id>/revoke")
@permission_required("admin.clients")
def admin_client_revoke(client_id):
    ConfirmForm().validate_on_submit() or abort(400)
    client = db.get_or_404(ApiClient, client_id)
    service.revoke_api_client(client, actor=g.actor)
    flash(f"Token of {client.name} revoked.", "info")
    return redirect(url_for("security.admin_clients"))


# --- the access trail -----------------------------------------------------------------


def _trail_query(args):
    stmt = select(AccessEvent)
    if args.get("user"):
        stmt = stmt.where(AccessEvent.username == args["user"].strip().lower())
    if args.get("record_type"):
        stmt = stmt.where(AccessEvent.record_type == args["record_type"].strip())
    if args.get("record_id"):
        stmt = stmt.where(AccessEvent.record_id == args["record_id"].strip())
    if args.get("action"):
        stmt = stmt.where(AccessEvent.action == args["action"])
    if args.get("outcome"):
        stmt = stmt.where(AccessEvent.outcome == args["outcome"])
    for key, op in (("since", "ge"), ("until", "lt")):
        if args.get(key):
            try:
                day = datetime.strptime(args[key], "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                abort(400, f"{key}: expected a date as YYYY-MM-DD")
            if op == "ge":
                stmt = stmt.where(AccessEvent.occurred_dt >= day)
            else:
                end = datetime.combine(add_days(day.date(), 1), time.min, tzinfo=UTC)
                stmt = stmt.where(AccessEvent.occurred_dt < end)
    return stmt.order_by(AccessEvent.seq.desc())


@bp.get("/trail", endpoint="trail")
@permission_required("trail.view")
def trail_view():
    # Own unit's rows only, unless the reader holds trail.view_all (then marked cross-unit).
    scope = scope_for(g.actor, request.args.get("unit"))
    stmt = restrict(_trail_query(request.args), scope)
    page = paginate(stmt, request.args)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    trail.record(
        g.actor,
        "search",
        "access_event",
        None,
        query=str(filters) if filters else None,
        details=scope.details(),
    )
    return render_template(
        "security/trail.html",
        page=page,
        args=request.args,
        actions=trail.ACTIONS,
        export_form=TrailExportForm(),
        scope=scope,
        units=units_for(g.actor),
    )


@bp.post("/trail/export")
@permission_required("trail.export")
def trail_export():
    form = TrailExportForm()
    if not form.validate_on_submit():
        flash("A justification is required to export the access trail.", "error")
        return redirect(url_for("security.trail", **request.args))
    scope = scope_for(g.actor, request.args.get("unit"))
    rows = db.session.scalars(restrict(_trail_query(request.args), scope)).all()
    trail.record(
        g.actor,
        "export",
        "access_event",
        None,
        justification=form.justification.data,
        query=str(dict(request.args)),
        details={"rows": len(rows), **scope.details()},
    )
    return csv_response(
        "access-trail.csv",
        [
            "seq",
            "occurred_utc",
            "username",
            "roles",
            "action",
            "record_type",
            "record_id",
            "query",
            "justification",
            "client_addr",
            "outcome",
            "hash",
        ],
        (
            [
                r.seq,
                r.occurred_dt.isoformat(),
                r.username,
                r.roles,
                r.action,
                r.record_type,
                r.record_id,
                r.query,
                r.justification,
                r.client_addr,
                r.outcome,
                r.hash,
            ]
            for r in rows
        ),
    )
