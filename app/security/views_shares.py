"""Share panel on record pages (cases, entities, reports): share with a unit or a user,
list the shares, revoke one. The pages include ``security/shares/_panel.html``."""

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core import forms
from app.core.errors import ValidationError
from app.core.params import id_value
from app.core.web import permission_required
from app.extensions import db
from app.security import shares
from app.security.models import Unit, User

bp = Blueprint("shares", __name__)

#: record type -> (endpoint of its page, name of the id argument)
RECORD_PAGES = {
    "case": ("cases.detail", "case_id"),
    "entity": ("intel.entity_detail", "entity_id"),
    "report": ("intel.report_detail", "report_id"),
}


class ShareForm(FlaskForm):
    #: checked by the service (an id of an active unit other than the owner)
    unit = SelectField("Share with unit", choices=[], default="", validate_choice=False)
    username = StringField("or with one user (user name)", validators=[Optional(), Length(max=80)])
    reason = TextAreaField(
        "Reason (why they need it; recorded in the access trail)",
        validators=[DataRequired(), Length(max=shares.MAX_REASON)],
    )
    ends = DateField(
        "Ends after (UTC, end of that day)",
        validators=[DataRequired()],
        description=f"At most {shares.MAX_SHARE_DAYS} days ahead.",
    )


class RevokeShareForm(FlaskForm):
    reason = StringField("Why it ends", validators=[Optional(), Length(max=shares.MAX_REASON)])


def unit_choices(owner_unit_id):
    units = db.session.scalars(
        select(Unit).where(Unit.is_active.is_(True), Unit.id != owner_unit_id).order_by(Unit.code)
    )
    return [("", "—")] + [(str(u.id), f"{u.code} · {u.name}") for u in units]


def share_panel(record):
    """What the record page's share panel shows to ``g.actor`` (None: no panel)."""
    actor = getattr(g, "actor", None)
    record_type = getattr(record, "__record_type__", None)
    if actor is None or record_type not in shares.SHAREABLE or record.handling_code != "C":
        return None
    rows = shares.shares_of(record, actor=actor)
    may_share = actor.can("record.share") and actor.unit_id == record.unit_id
    if not rows and not may_share:
        return None
    form = None
    if may_share:
        form = ShareForm(formdata=None, prefix="share")
        form.unit.choices = unit_choices(record.unit_id)
    return {
        "record_type": record_type,
        "record_id": record.id,
        "shares": [(s, shares.status(s)) for s in rows],
        "form": form,
        "revoke_form": RevokeShareForm(formdata=None, prefix="revoke") if may_share else None,
    }


def _back(record_type, record_id):
    endpoint, arg = RECORD_PAGES[record_type]
    return redirect(url_for(endpoint, **{arg: record_id}))


def _user_id(username: str) -> int:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ValidationError({"username": "no such user"})
    return user.id


@bp.post("/shares/<record_type>/<int:record_id>")
@permission_required("record.share")
def share_create(record_type, record_id):
    if record_type not in RECORD_PAGES:
        abort(404)
    record = shares.load_record(record_type, record_id, actor=g.actor)
    form = ShareForm(prefix="share")
    form.unit.choices = unit_choices(record.unit_id)
    if not form.validate_on_submit():
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        flash(f"Share not made: {problems}", "error")
        return _back(record_type, record_id)
    done = forms.submit(
        form,
        lambda f: shares.create_share(
            record_type,
            record_id,
            actor=g.actor,
            reason=f.reason.data,
            expires=f.ends.data,
            unit_id=id_value(f.unit.data, "unit_id", strict=True) if f.unit.data else None,
            user_id=_user_id(f.username.data) if f.username.data else None,
        ),
        validate=False,
        redirecting=True,
        label=lambda key: f"Share not made: {key}",
    )
    if done:
        share = done.value
        who = share.unit.code if share.unit else share.user.username
        flash(f"Shared with {who} until {share.expires_dt:%Y-%m-%d %H:%M} UTC.", "info")
    return _back(record_type, record_id)


@bp.post("/shares/<int:share_id>/revoke")
@permission_required("record.share")
def share_revoke(share_id):
    share, _ = shares.get_share(share_id, actor=g.actor)
    record_type, record_id = share.record_type, share.record_id
    form = RevokeShareForm(prefix="revoke")
    if not form.validate_on_submit():
        abort(400)
    if forms.submit(
        form,
        lambda f: shares.revoke_share(share_id, actor=g.actor, reason=f.reason.data),
        validate=False,
        redirecting=True,
        label=lambda key: f"Share not revoked: {key}",
    ):
        flash("Share revoked: the recipient can no longer open the record.", "info")
    return _back(record_type, record_id)


def init_app(app):
    app.register_blueprint(bp)
    app.add_template_global(share_panel, "share_panel")
