"""Administrator page: the retention review queue, decisions taken and retention settings."""

from datetime import UTC, datetime, time

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from app.core import forms
from app.core.web import permission_required
from app.extensions import db
from app.ops import retention
from app.ops.forms import DecisionForm
from app.ops.models import DECISIONS, ReviewItem
from app.security import trail

bp = Blueprint("ops", __name__, url_prefix="/admin/retention")


@bp.get("/")
@permission_required("admin.reference")
def retention_page():
    pending = db.session.scalars(
        select(ReviewItem).where(ReviewItem.status == "pending").order_by(ReviewItem.due_dt)
    ).all()
    decided = db.session.scalars(
        select(ReviewItem)
        .where(ReviewItem.status != "pending")
        .order_by(ReviewItem.decided_dt.desc())
        .limit(100)
    ).all()
    trail.record(g.actor, "search", "retention_review", None, query="review queue")
    sources = retention.retention_sources(current_app)
    return render_template(
        "ops/retention.html",
        pending=pending,
        decided=decided,
        sources=sources,
        # per record type: its label and the decisions its policy allows
        kinds={
            s.record_type: (s.label, [(d, DECISIONS[d]) for d in DECISIONS if s.allows(d)])
            for s in sources
        },
        trail_days=retention.trail_retention_days(current_app.config),
        form=DecisionForm(),
    )


@bp.post("/<int:item_id>/decide")
@permission_required("admin.reference")
def decide(item_id):
    item = db.get_or_404(ReviewItem, item_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        errors = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        flash(f"Decision not recorded: {errors}", "error")
        return redirect(url_for("ops.retention_page"))
    next_review = (
        datetime.combine(form.next_review.data, time(), tzinfo=UTC)
        if form.next_review.data
        else None
    )
    done = forms.submit(
        form,
        lambda f: retention.decide(
            item, f.decision.data, f.reason.data, actor=g.actor, next_review_dt=next_review
        ),
        validate=False,
        redirecting=True,
        label=lambda key: f"Decision not recorded: {key}",
    )
    if not done:
        return redirect(url_for("ops.retention_page"))
    flash(f"{item.record_type} {item.record_id}: {item.status}.", "info")
    return redirect(url_for("ops.retention_page"))
