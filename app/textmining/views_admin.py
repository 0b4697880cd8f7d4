"""News administration pages: feeds, allowed hosts, term lists and the workbench
(routes of the ``textmining`` blueprint defined in ``views``)."""

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.core import forms
from app.core.errors import ValidationError
from app.core.pagination import paginate
from app.core.params import id_value
from app.core.web import permission_required
from app.extensions import db
from app.textmining import feeds as feed_service
from app.textmining import service
from app.textmining.forms import ConfirmForm, FeedForm, HostForm, TermForm, WorkbenchForm
from app.textmining.models import AllowedHost, Article
from app.textmining.terms_builtin import TERM_CATEGORIES, WORKBENCH_CATEGORIES
from app.textmining.views import bp

# -- feeds ------------------------------------------------------------------------------


@bp.get("/feeds")
@permission_required("news.view")
def feeds():
    counts = dict(
        db.session.execute(
            select(Article.feed_id, func.count(Article.id)).group_by(Article.feed_id)
        ).all()
    )
    return render_template(
        "textmining/feeds.html",
        feeds=feed_service.list_feeds(actor=g.actor),
        counts=counts,
        hosts=db.session.scalars(select(AllowedHost).order_by(AllowedHost.host)).all(),
        host_form=HostForm(),
        confirm=ConfirmForm(),
    )


@bp.route("/feeds/new", methods=["GET", "POST"])
@permission_required("news.manage")
def feed_new():
    form = FeedForm()
    done = forms.submit(
        form,
        lambda f: feed_service.create_feed(
            f.url.data,
            f.title.data,
            keywords=f.keywords.data or "",
            actor=g.actor,
            interval_minutes=f.interval_minutes.data or 60,
        ),
    )
    if done:
        flash(f"Feed {done.value.title} added; the worker polls it within a minute.", "info")
        return redirect(url_for("textmining.feed", feed_id=done.value.id))
    return render_template("textmining/feed_form.html", form=form, feed=None)


@bp.get("/feeds/<int:feed_id>")
@permission_required("news.view")
def feed(feed_id):
    item = feed_service.get_feed(feed_id, actor=g.actor)
    return render_template(
        "textmining/feed.html",
        feed=item,
        fetches=feed_service.recent_fetches(item),
        confirm=ConfirmForm(),
        article_count=db.session.scalar(
            select(func.count(Article.id)).where(Article.feed_id == item.id)
        ),
    )


@bp.route("/feeds/<int:feed_id>/edit", methods=["GET", "POST"])
@permission_required("news.manage")
def feed_edit(feed_id):
    item = feed_service.get_feed(feed_id, actor=g.actor)
    form = FeedForm(obj=item)
    if request.method == "GET":
        form.keywords.data = "\n".join(item.keywords or [])
    done = forms.submit(
        form,
        lambda f: feed_service.update_feed(
            item, title=f.title.data, keywords=f.keywords.data, url=f.url.data, actor=g.actor
        ),
    )
    if done:
        flash("Feed saved.", "info")
        return redirect(url_for("textmining.feed", feed_id=item.id))
    return render_template("textmining/feed_form.html", form=form, feed=item)


@bp.post("/feeds/<int:feed_id>/pause")
@permission_required("news.manage")
def feed_pause(feed_id):
    item = feed_service.get_feed(feed_id, actor=g.actor)
    if ConfirmForm().validate_on_submit():
        feed_service.set_feed_active(item, False, actor=g.actor)
        flash("Feed paused.", "info")
    return redirect(url_for("textmining.feed", feed_id=item.id))


@bp.post("/feeds/<int:feed_id>/resume")
@permission_required("news.manage")
def feed_resume(feed_id):
    item = feed_service.get_feed(feed_id, actor=g.actor)
    if ConfirmForm().validate_on_submit():
        feed_service.set_feed_active(item, True, actor=g.actor)
        flash("Feed resumed; the worker polls it within a minute.", "info")
    return redirect(url_for("textmining.feed", feed_id=item.id))


@bp.post("/feeds/<int:feed_id>/test")
@permission_required("news.manage")
def feed_test(feed_id):
    """Fetch and parse now without storing anything: what would the next poll give?"""
    from app.textmining.ingest import DocumentRejected, parse_document

    item = feed_service.get_feed(feed_id, actor=g.actor)
    if not ConfirmForm().validate_on_submit() or item.is_offline:
        return redirect(url_for("textmining.feed", feed_id=item.id))
    url, hosts = item.url, feed_service.allowed_hosts()
    db.session.commit()  # no transaction (nor SQLite lock) held during network I/O
    attempt = feed_service.fetch_feed(url, None, None, hosts)
    result = {"duration_ms": attempt.duration_ms}
    if attempt.error is not None:
        result.update(ok=False, message=attempt.error.reason)
    else:
        try:
            doc = parse_document(attempt.result.body, attempt.result.headers)
        except DocumentRejected as exc:
            result.update(ok=False, message=f"HTTP {attempt.result.status}; rejected: {exc.reason}")
        else:
            result.update(
                ok=True,
                message=f"HTTP {attempt.result.status}; {len(doc.entries)} "
                f"entries, {len(doc.skipped)} skipped"
                + (f"; warning: {doc.warning}" if doc.warning else ""),
                titles=[e.title for e in doc.entries[:10]],
            )
    item = feed_service.get_feed(feed_id, actor=g.actor)
    return render_template(
        "textmining/feed.html",
        feed=item,
        test=result,
        fetches=feed_service.recent_fetches(item),
        confirm=ConfirmForm(),
        article_count=db.session.scalar(
            select(func.count(Article.id)).where(Article.feed_id == item.id)
        ),
    )


@bp.post("/hosts")
@permission_required("news.manage")
def host_add():
    done = forms.submit(
        HostForm(),
        lambda f: feed_service.add_allowed_host(f.host.data, f.note.data, actor=g.actor),
        redirecting=True,
    )
    if done:
        flash("Host allowed.", "info")
    return redirect(url_for("textmining.feeds"))


@bp.post("/hosts/<int:host_id>/delete")
@permission_required("news.manage")
def host_delete(host_id):
    if ConfirmForm().validate_on_submit():
        feed_service.remove_allowed_host(host_id, actor=g.actor)
        flash("Host removed from the allow-list.", "info")
    return redirect(url_for("textmining.feeds"))


# -- term lists -------------------------------------------------------------------------


@bp.get("/terms")
@permission_required("news.view")
def terms():
    stmt = service.list_terms(
        actor=g.actor,
        category=request.args.get("category") or None,
        q=request.args.get("q", "").strip() or None,
    )
    page = paginate(stmt, request.args, per_page=100)
    from app.textmining.models import Term

    stored = db.session.scalar(select(func.count(Term.id)))
    return render_template(
        "textmining/terms.html",
        page=page,
        args=request.args,
        categories=TERM_CATEGORIES,
        stored=stored,
        confirm=ConfirmForm(),
    )


@bp.route("/terms/new", methods=["GET", "POST"])
@permission_required("news.terms.edit")
def term_new():
    form = TermForm()
    if request.method == "GET" and request.args.get("category") in TERM_CATEGORIES:
        form.category.data = request.args["category"]
    done = forms.submit(
        form,
        lambda f: service.create_term(
            f.category.data, f.canonical.data, f.synonyms.data or "", actor=g.actor
        ),
    )
    if done:
        term = done.value
        flash(
            f"Term {term.canonical} added; it applies to new articles (re-extract to "
            "apply it to stored ones).",
            "info",
        )
        return redirect(url_for("textmining.terms", category=term.category))
    return render_template("textmining/term_form.html", form=form, term=None)


@bp.route("/terms/<int:term_id>", methods=["GET", "POST"])
@permission_required("news.terms.edit")
def term_edit(term_id):
    term = service.get_term(term_id, actor=g.actor)
    form = TermForm(obj=term)
    form.category.render_kw = {"disabled": True}
    if request.method == "GET":
        form.synonyms.data = "\n".join(term.synonyms or [])
    form.category.data = term.category
    done = forms.submit(
        form,
        lambda f: service.update_term(
            term.id,
            canonical=f.canonical.data,
            synonyms=f.synonyms.data or "",
            is_active=f.is_active.data,
            actor=g.actor,
        ),
    )
    if done:
        flash("Term saved.", "info")
        return redirect(url_for("textmining.terms", category=term.category))
    return render_template("textmining/term_form.html", form=form, term=term)


@bp.post("/terms/seed")
@permission_required("news.terms.edit")
def terms_seed():
    if ConfirmForm().validate_on_submit():
        added = service.seed_terms(actor=g.actor)
        flash(f"{added} built-in terms added to the editable lists.", "info")
    return redirect(url_for("textmining.terms"))


@bp.post("/terms/reextract")
@permission_required("news.terms.edit")
def terms_reextract():
    if ConfirmForm().validate_on_submit():
        done = service.reextract(actor=g.actor, limit=500)
        flash(
            f"Mentions of the {done} newest articles extracted again "
            "(tollgate textmining reextract does all of them).",
            "info",
        )
    return redirect(url_for("textmining.terms"))


# -- workbench --------------------------------------------------------------------------


@bp.get("/workbench")
@permission_required("news.workbench")
def workbench():
    category = request.args.get("category") or None
    show = request.args.get("show") == "all"
    candidates = service.workbench_candidates(actor=g.actor, category=category, show_decided=show)
    return render_template(
        "textmining/workbench.html",
        candidates=candidates,
        category=category,
        show=show,
        categories=WORKBENCH_CATEGORIES,
        form=WorkbenchForm(),
        can_promote=g.actor.can("entity.edit"),
    )


def _decide(action, form):
    category, canonical = form.category.data, form.canonical.data
    if action == "promote":
        decision = service.promote_mention(
            category,
            canonical,
            actor=g.actor,
            name=form.name.data or None,
            entity_type=form.entity_type.data or None,
            handling_code=form.handling_code.data or "P",
        )
        flash(f"{canonical} added to the entity registry (#{decision.entity_id}).", "info")
    elif action == "link":
        entity_id = id_value(form.entity_id.data, "entity_id", strict=True)
        if entity_id is None:
            raise ValidationError({"entity_id": "choose the registry entity from the list"})
        service.link_mention(category, canonical, entity_id, actor=g.actor)
        flash(f"{canonical} linked to entity #{entity_id}.", "info")
    elif action == "dismiss":
        service.dismiss_mention(category, canonical, actor=g.actor)
        flash(f"{canonical} dismissed.", "info")
    else:
        raise ValidationError({"action": "must be promote, link or dismiss"})


@bp.post("/workbench/<action>")
@permission_required("news.workbench")
def workbench_decide(action):
    form = WorkbenchForm()
    if not form.validate_on_submit():
        flash("The proposal was incomplete; reload the workbench.", "error")
        return redirect(url_for("textmining.workbench"))
    forms.submit(form, lambda f: _decide(action, f), validate=False, redirecting=True)
    return redirect(url_for("textmining.workbench", category=form.category.data))


@bp.post("/workbench/dismiss-many")
@permission_required("news.workbench")
def workbench_dismiss_many():
    """Bulk dismiss: ticked rows arrive as "category|canonical" items."""
    items = [tuple(raw.split("|", 1)) for raw in request.form.getlist("item") if "|" in raw]
    done = forms.submit(
        ConfirmForm(), lambda _f: service.dismiss_many(items, actor=g.actor), redirecting=True
    )
    if done:
        flash(f"{len(done.value)} proposals dismissed.", "info")
    return redirect(url_for("textmining.workbench", category=request.args.get("category") or None))


@bp.post("/workbench/decisions/<int:decision_id>/undo")
@permission_required("news.workbench")
def workbench_undo(decision_id):
    undo = lambda _f: service.undo_decision(decision_id, actor=g.actor)  # noqa: E731
    done = forms.submit(ConfirmForm(), undo, redirecting=True)
    if done:
        flash("The proposal is open again.", "info")
    return redirect(url_for("textmining.workbench", show="all"))
