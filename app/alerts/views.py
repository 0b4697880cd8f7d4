"""Inbox, alert page and its lifecycle, live updates (polled state), supervision, watches, saved
searches and notification settings."""

import hashlib
import json
import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from app.alerts import cases as alert_cases
from app.alerts import grouping, service, supervision, text, undelivered, watches
from app.alerts.forms import (
    ActionForm,
    AssignForm,
    AttachCaseForm,
    BulkForm,
    CaseFromAlertForm,
    EscalateForm,
    ExportForm,
    FeedbackForm,
    NoteForm,
    PreferenceForm,
    SavedSearchForm,
    WatchEntityForm,
    WatchTermForm,
    WebhookForm,
)
from app.alerts.models import EMAIL_MODES, OPEN_STATUSES, SEVERITIES, SOURCE_KINDS
from app.alerts.subjects import url_for_subject
from app.core import forms
from app.core.database import valid_id
from app.core.errors import ValidationError
from app.core.exports import csv_response
from app.core.pagination import paginate
from app.core.params import id_arg, id_list, id_value, int_arg, whole_number
from app.core.web import background_request, permission_required
from app.extensions import db
from app.security.access import NotFound

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
log = logging.getLogger(__name__)


def escalation_setup_panel(actor):
    """For the administrator, only when something is wrong: escalation beyond a unit is
    refused (no headquarters unit designated), or a designated code names no active unit."""
    setup = supervision.escalation_setup()
    return setup if (not setup["units"] or setup["missing"]) else None


def home_panel(actor):
    """The "Open alerts" box on the home page."""
    stmt = service.inbox_query(actor, status="open")
    items = db.session.scalars(stmt.limit(5)).all()
    return {"alerts": items, "unread": service.unread_count(actor)}


@bp.app_context_processor
def _alert_context():
    def alerts_unread():
        actor = g.get("actor")
        if actor is None or actor.user_id is None or not actor.can("alert.view"):
            return None
        return service.unread_count(actor)

    def alert_text(alert):
        """The alert's texts as the reader may read them (the seam: ``app.alerts.text``)."""
        return text.alert_text(g.actor, alert)

    return {"alerts_unread": alerts_unread, "alert_text": alert_text}


def _back(alert_id=None):
    target = request.form.get("next") or ""
    if target == "inbox" or alert_id is None:
        return redirect(url_for("alerts.inbox"))
    return redirect(url_for("alerts.detail", alert_id=alert_id))


# --- inbox and alert page -------------------------------------------------------------------


@bp.get("/")
@permission_required("alert.view")
def inbox():
    status = request.args.get("status", "open")
    severity = request.args.get("severity") or None
    source_kind = request.args.get("source") or None
    group_by = request.args.get("group") or None
    filters = {"status": status, "severity": severity, "source_kind": source_kind}
    try:
        group = _group_filter(request.args)
        stmt = service.inbox_query(g.actor, **filters, **group)
        groups = grouping.groups(g.actor, group_by, **filters) if group_by else None
    except ValidationError as exc:
        forms.flash_errors(exc)
        return redirect(url_for("alerts.inbox"))
    page = paginate(stmt, request.args)
    unread = {
        r.alert_id
        for a in page.items
        for r in a.recipients
        if r.user_id == g.actor.user_id and not r.is_read
    }
    context = {
        "page": page,
        "unread": unread,
        "bulk": BulkForm(),
        "status": status,
        "severity": severity,
        "source": source_kind,
        "severities": SEVERITIES,
        "source_kinds": SOURCE_KINDS,
        "group_by": group_by,
        "groupings": grouping.GROUPINGS,
        "groups": groups,
        "group": group,
    }
    if request.args.get("partial"):
        return render_template("alerts/_list.html", **context)
    context["undelivered"] = undelivered.failed_for_recipient(g.actor)
    return render_template("alerts/inbox.html", **context)


def _group_filter(args) -> dict:
    """One group's alerts: ``source_id`` (with ``source``) or ``subject`` as "type:id"."""
    out = {}
    source_id = id_arg(args, "source_id")
    if source_id is not None:
        out["source_id"] = source_id
    subject = args.get("subject") or ""
    if subject:
        kind, _, rid = subject.partition(":")
        rid = id_arg({"subject": rid}, "subject")
        if not kind or rid is None:
            raise ValidationError({"subject": "must be a record type and id, e.g. case:12"})
        out["subject"] = (kind, rid)
    return out


@bp.get("/<int:alert_id>")
@permission_required("alert.view")
def detail(alert_id):
    alert = service.get_alert(g.actor, alert_id)
    service.mark_read(g.actor, alert)
    texts = text.alert_text(g.actor, alert)
    assign_form = AssignForm()
    assign_form.user_id.choices = [
        (str(u.id), u.full_name) for u in supervision.assignees(g.actor, alert)
    ]
    return render_template(
        "alerts/detail.html",
        alert=alert,
        text=texts,
        subject_url=url_for_subject(alert.subject_type, alert.subject_id),
        note_form=NoteForm(),
        action_form=ActionForm(),
        feedback_form=FeedbackForm(),
        case_form=CaseFromAlertForm(title=texts.title[:300]),
        attach_form=AttachCaseForm(),
        case_url=url_for_subject("case", alert.case_id) if alert.case_id else None,
        deliveries=service.deliveries_of(alert),
        open_statuses=OPEN_STATUSES,
        assign_form=assign_form,
        escalate_form=EscalateForm(),
        holder=supervision.holder(alert),
    )


def _lifecycle(alert_id, change, form_cls=NoteForm, message="Alert updated."):
    # Need-to-know first: an outsider learns nothing, not even that the form was wrong.
    done = forms.submit(
        form_cls(),
        change,
        redirecting=True,
        on_error=lambda: service.get_alert(g.actor, alert_id, action="update", log=False),
    )
    if done:
        flash(message, "info")
    return _back(alert_id)


@bp.post("/<int:alert_id>/acknowledge")
@permission_required("alert.view")
def acknowledge(alert_id):
    return _lifecycle(
        alert_id,
        lambda f: service.acknowledge(g.actor, alert_id, f.note.data),
        message="Alert acknowledged; escalation stopped.",
    )


@bp.post("/<int:alert_id>/action")
@permission_required("alert.view")
def action(alert_id):
    return _lifecycle(
        alert_id,
        lambda f: service.mark_actioned(g.actor, alert_id, f.note.data),
        ActionForm,
        "Alert marked as actioned.",
    )


@bp.post("/<int:alert_id>/close")
@permission_required("alert.view")
def close(alert_id):
    return _lifecycle(
        alert_id, lambda f: service.close(g.actor, alert_id, f.note.data), message="Alert closed."
    )


@bp.post("/<int:alert_id>/assign")
@permission_required("alert.supervise")
def assign(alert_id):
    return _lifecycle(
        alert_id,
        lambda f: supervision.assign(g.actor, alert_id, f.user_id.data, f.note.data),
        AssignForm,
        "Alert assigned: it is in the officer's inbox.",
    )


@bp.post("/<int:alert_id>/escalate")
@permission_required("alert.view")
def escalate(alert_id):
    return _lifecycle(
        alert_id,
        lambda f: supervision.escalate(g.actor, alert_id, f.reason.data),
        EscalateForm,
        "Alert escalated: it is in the inbox of the next level.",
    )


@bp.post("/<int:alert_id>/feedback")
@permission_required("alert.view")
def feedback(alert_id):
    return _lifecycle(
        alert_id,
        lambda f: service.give_feedback(g.actor, alert_id, f.useful.data == "yes", f.note.data),
        FeedbackForm,
        "Thank you: the feedback counts in the source's statistics.",
    )


@bp.post("/<int:alert_id>/case")
@permission_required("case.create")
def create_case(alert_id):
    form = CaseFromAlertForm()
    if form.validate_on_submit():
        done = _refusable(
            form,
            lambda f: alert_cases.create_case_from_alert(
                g.actor, alert_id, kind=f.kind.data, title=f.title.data
            ),
            alert_id,
        )
        if done:
            flash(f"Case {done.value.reference} opened from this alert.", "info")
            return redirect(
                url_for_subject("case", done.value.id)
                or url_for("alerts.detail", alert_id=alert_id)
            )
    else:
        service.get_alert(g.actor, alert_id, log=False)
        flash("Give the case a title.", "error")
    return redirect(url_for("alerts.detail", alert_id=alert_id))


def _refusable(form, action, alert_id):
    """A case action from an alert; refused, the alert is read again first (need-to-know:
    an alert the user may not see is a 404, whatever the form said)."""
    return forms.submit(
        form,
        action,
        validate=False,
        redirecting=True,
        on_error=lambda: service.get_alert(g.actor, alert_id, log=False),
    )


@bp.post("/<int:alert_id>/attach")
@permission_required("case.edit")
def attach_case(alert_id):
    form = AttachCaseForm()
    if form.validate_on_submit():
        done = _refusable(
            form, lambda f: alert_cases.attach_to_case(g.actor, alert_id, f.case.data), alert_id
        )
        if done:
            flash(f"Alert recorded in case {done.value.reference}.", "info")
    else:
        service.get_alert(g.actor, alert_id, log=False)
        flash("Name the case to attach the alert to.", "error")
    return redirect(url_for("alerts.detail", alert_id=alert_id))


@bp.post("/acknowledge")
@permission_required("alert.view")
def bulk_acknowledge():
    # Only ids an alert can have: "²" or 2**64 would fail in int() or in the database.
    done = forms.submit(
        BulkForm(),
        lambda _f: service.bulk_acknowledge(
            g.actor, id_list(request.form.getlist("alert_ids"), "alert_ids")
        ),
        redirecting=True,
    )
    if done:
        flash(f"{done.value} alert(s) acknowledged.", "info")
    return redirect(url_for("alerts.inbox"))


# --- live updates ---------------------------------------------------------------------------


@bp.get("/state")
@permission_required("alert.view")
@background_request
def state():
    """The unread count and the newest alert, for the badge and the inbox to poll.

    Short polling with an ETag, after GitLab's "polling with ETag caching": each answer is a
    few milliseconds of one worker thread, so open pages cost requests per second, not threads
    (a held server-sent-event stream kept one of gunicorn's threads per open page, and 16 tabs
    stalled the service). An unchanged state is a bodiless 304; ``Poll-Interval`` tells the
    page how long to wait (the administrator's setting, so load can be shed without a
    release); the page stops polling while hidden. The state is the recipient's own: counted
    by ``service.inbox_state`` under the same need-to-know as the inbox.
    """
    payload = json.dumps(service.inbox_state(g.actor), sort_keys=True)
    response = Response(payload, mimetype="application/json")
    response.set_etag(hashlib.sha256(payload.encode()).hexdigest()[:32])
    # The page sends If-None-Match itself; nothing per user is left in the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Poll-Interval"] = str(current_app.config["TOLLGATE_ALERT_POLL_SECONDS"])
    return response.make_conditional(request)


# --- supervision ----------------------------------------------------------------------------


@bp.get("/supervise")
@permission_required("alert.supervise")
def supervise():
    days = int_arg(request.args, "days", 30, 1, 365)  # clamped; text that is no number: 30
    figures = service.supervisor_figures(g.actor, days=days)
    return render_template(
        "alerts/supervise.html",
        f=figures,
        export_form=ExportForm(),
        source_kinds=SOURCE_KINDS,
        undelivered=undelivered.failed_for_unit(g.actor, days=days),
    )


@bp.get("/supervise/alerts")
@permission_required("alert.supervise")
def figure_alerts():
    """Drill-down: the unit's alerts behind one figure of the supervision page."""
    args = request.args
    days = int_arg(args, "days", 30, 1, 365)
    figure = {
        "open": bool(args.get("open")),
        "severity": args.get("severity") if args.get("severity") in SEVERITIES else None,
        "age": args.get("age") or None,
        "source_kind": args.get("source") or None,
        "source_id": id_arg(args, "source_id"),
        "escalated": bool(args.get("escalated")),
    }
    try:
        alerts, hidden = supervision.figure_alerts(g.actor, days=days, **figure)
    except ValidationError as exc:
        forms.flash_errors(exc)
        return redirect(url_for("alerts.supervise", days=days))
    mine = {a.id for a in alerts if any(r.user_id == g.actor.user_id for r in a.recipients)}
    return render_template(
        "alerts/figure_alerts.html",
        alerts=alerts,
        hidden=hidden,
        mine=mine,
        days=days,
        figure=figure,
        source_kinds=SOURCE_KINDS,
    )


@bp.post("/supervise/export")
@permission_required("alert.supervise")
def export_figures():
    """The figures as CSV, with a justification (trailed)."""
    days = int_arg(request.args, "days", 30, 1, 365)
    form = ExportForm()
    if not form.validate_on_submit():
        flash("A justification is required to export the figures.", "error")
        return redirect(url_for("alerts.supervise", days=days))
    figures = service.supervisor_figures(g.actor, days=days)
    rows = supervision.export_rows(g.actor, figures, form.justification.data)
    return csv_response(f"alert-figures-{days}d.csv", supervision.EXPORT_HEADER, rows)


# --- watches and saved searches -------------------------------------------------------------


@bp.get("/watches", endpoint="watches")
@permission_required("alert.view")
def watches_page():
    entity_form = WatchEntityForm(entity_id=valid_id(id_arg(request.args, "entity_id")))
    return render_template(
        "alerts/watches.html",
        watches=watches.list_watches(g.actor),
        searches=watches.list_saved_searches(g.actor),
        entity_form=entity_form,
        term_form=WatchTermForm(),
        search_form=SavedSearchForm(),
        confirm=BulkForm(),
    )


def _create(form, make, message):
    if forms.submit(form, make, redirecting=True):
        flash(message, "info")
    return redirect(url_for("alerts.watches"))


@bp.post("/watches/entity")
@permission_required("alert.manage")
def watch_entity():
    return _create(
        WatchEntityForm(),
        lambda f: watches.watch_entity(
            g.actor, _picked_entity(f.entity_id.data), severity=f.severity.data
        ),
        "Entity watched.",
    )


def _picked_entity(raw: str) -> int:
    """The id the entity picker put in the field; a name typed without picking is refused."""
    if whole_number(raw.strip()) is None:
        raise ValidationError({"entity_id": "type a name or identifier and pick an entity"})
    return id_value(raw, "entity_id", strict=True)


@bp.post("/watches/term")
@permission_required("alert.manage")
def watch_term():
    return _create(
        WatchTermForm(),
        lambda f: watches.watch_term(g.actor, f.term.data, severity=f.severity.data),
        "Term watched.",
    )


@bp.post("/searches")
@permission_required("alert.manage")
def save_search():
    return _create(
        SavedSearchForm(),
        lambda f: watches.save_search(
            g.actor,
            name=f.name.data,
            query=f.query.data,
            severity=f.severity.data,
            # the results page's "In" filter: the saved search looks in those types only
            record_types=[t for t in request.form.getlist("record_types") if t],
        ),
        "Search saved; new results will raise alerts.",
    )


def _remove(remove, item_id, message, endpoint="alerts.watches"):
    if BulkForm().validate_on_submit():
        try:
            remove(g.actor, item_id)
        except NotFound:
            db.session.rollback()
            flash("Nothing of yours to remove there.", "error")
        else:
            flash(message, "info")
    return redirect(url_for(endpoint))


@bp.post("/watches/<int:watch_id>/delete")
@permission_required("alert.manage")
def remove_watch(watch_id):
    return _remove(watches.remove_watch, watch_id, "Watch removed.")


@bp.post("/searches/<int:search_id>/delete")
@permission_required("alert.manage")
def remove_search(search_id):
    return _remove(watches.remove_saved_search, search_id, "Saved search removed.")


# --- notification settings ------------------------------------------------------------------


def _settings_page(form=None, new_hook=None):
    hooks = service.list_webhooks(g.actor) if g.actor.can("alert.supervise") else []
    return render_template(
        "alerts/settings.html",
        form=form or PreferenceForm(obj=service.get_preference(g.actor)),
        modes=EMAIL_MODES,
        hooks=[h for h in hooks if h.is_active],
        hook_form=WebhookForm(),
        confirm=BulkForm(),
        new_hook=new_hook,
    )


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("alert.view")
def settings():
    pref = service.get_preference(g.actor)
    form = PreferenceForm(obj=pref)
    if form.validate_on_submit():  # an invalid form is shown again with its errors
        done = forms.submit(
            form,
            lambda f: service.set_preference(
                g.actor, email_mode=f.email_mode.data, min_severity=f.min_severity.data
            ),
            validate=False,
            redirecting=True,
        )
        if done:
            flash("Notification settings saved.", "info")
        return redirect(url_for("alerts.settings"))
    return _settings_page(form)


@bp.post("/webhooks")
@permission_required("alert.supervise")
def add_webhook():
    done = forms.submit(
        WebhookForm(),
        lambda f: service.add_webhook(
            g.actor, name=f.name.data, url=f.url.data, min_severity=f.min_severity.data
        ),
        redirecting=True,
    )
    if done:
        # Shown once, in the page (never in a flash cookie), like API tokens.
        return _settings_page(new_hook=done.value)
    return redirect(url_for("alerts.settings"))


@bp.post("/webhooks/<int:webhook_id>/delete")
@permission_required("alert.supervise")
def remove_webhook(webhook_id):
    return _remove(service.remove_webhook, webhook_id, "Webhook removed.", "alerts.settings")
