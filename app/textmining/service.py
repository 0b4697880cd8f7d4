"""Articles, term lists and the promotion workbench (services: actor in, flush only)."""

from dataclasses import dataclass

from sqlalchemy import distinct, func, or_, select

from app.core.errors import ValidationError
from app.extensions import db
from app.security import trail
from app.security.access import NotFound
from app.textmining.extraction import ENTITY_TYPES, extract_articles, get_extractor
from app.textmining.ingest import extraction_text
from app.textmining.models import Article, Mention, Term, WorkbenchDecision
from app.textmining.splits import apply_term_splits
from app.textmining.terms_builtin import BUILTIN_TERMS, TERM_CATEGORIES, WORKBENCH_CATEGORIES

MAX_SYNONYMS = 200


# -- articles ---------------------------------------------------------------------------


def articles_query(
    *,
    actor,
    q=None,
    feed_id=None,
    language=None,
    category=None,
    canonical=None,
    keyword=None,
    group_id=None,
):
    """A SELECT of articles, newest first, for the filters given."""
    actor.require("news.view")
    stmt = select(Article)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(Article.title).like(like), func.lower(Article.text).like(like))
        )
    if feed_id:
        stmt = stmt.where(Article.feed_id == feed_id)
    if language:
        stmt = stmt.where(Article.language == language)
    if group_id:
        stmt = stmt.where(Article.group_id == group_id)
    if category or canonical:
        sub = select(Mention.article_id)
        if category:
            sub = sub.where(Mention.category == category)
        if canonical:
            sub = sub.where(Mention.canonical == canonical)
        stmt = stmt.where(Article.id.in_(sub))
    if keyword:
        # JSON list of keywords: portable substring test on its serialised form
        stmt = stmt.where(
            func.lower(func.cast(Article.keywords, db.String)).like(f'%"{keyword.lower()}"%')
        )
    return stmt.order_by(
        func.coalesce(Article.published_dt, Article.created_dt).desc(), Article.id.desc()
    )


def get_article(article_id: int, *, actor) -> Article:
    actor.require("news.view")
    article = db.session.get(Article, article_id)
    if article is None:
        raise NotFound()
    return article


def group_members(article: Article) -> list[Article]:
    """The other articles of its near-duplicate group."""
    if not article.group_id:
        return []
    return db.session.scalars(
        select(Article)
        .where(Article.group_id == article.group_id, Article.id != article.id)
        .order_by(Article.id)
    ).all()


def group_sizes(article_ids) -> dict[int, int]:
    """Group id → number of articles, for the groups of the given articles."""
    groups = db.session.scalars(select(Article.group_id).where(Article.id.in_(article_ids)))
    groups = {g for g in groups if g}
    if not groups:
        return {}
    rows = db.session.execute(
        select(Article.group_id, func.count(Article.id))
        .where(Article.group_id.in_(groups))
        .group_by(Article.group_id)
    )
    return dict(rows.all())


@dataclass
class Segment:
    text: str
    mention: Mention | None = None


def highlight(article: Article) -> tuple[list[Segment], list[Segment]]:
    """Title and body split into plain and highlighted segments (mention offsets refer to
    ``extraction_text``: title, blank line, body)."""
    full = extraction_text(article)
    body_start = len(article.title) + 2 if article.title else 0
    regions = [(0, len(article.title) if article.title else 0), (body_start, len(full))]
    mentions = sorted(article.mentions, key=lambda m: (m.start, -(m.end - m.start)))
    out = []
    for lo, hi in regions:
        segments, pos = [], lo
        for m in mentions:
            if m.start < pos or m.start < lo or m.end > hi:
                continue  # nested or overlapping (e.g. a quantity inside a commodity)
            if m.start > pos:
                segments.append(Segment(full[pos : m.start]))
            segments.append(Segment(full[m.start : m.end], m))
            pos = m.end
        if pos < hi:
            segments.append(Segment(full[pos:hi]))
        out.append(segments)
    return out[0], out[1]


def reextract(*, actor, limit: int | None = None) -> int:
    """Extract mentions again with the current term lists (newest articles first)."""
    actor.require("news.terms.edit")
    apply_term_splits()
    stmt = select(Article).order_by(Article.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    extractor = get_extractor()
    done = 0
    batch: list[Article] = []
    for article in db.session.scalars(stmt):
        batch.append(article)
        if len(batch) == 200:
            extract_articles(batch, extractor=extractor)
            done += len(batch)
            batch = []
    if batch:
        extract_articles(batch, extractor=extractor)
        done += len(batch)
    return done


# -- term lists -------------------------------------------------------------------------


def seed_terms(*, actor=None) -> int:
    """Insert the built-in terms missing from the table (idempotent); returns how many."""
    if actor is not None:
        actor.require("news.terms.edit")
    apply_term_splits()
    existing = {(c, n) for c, n in db.session.execute(select(Term.category, Term.canonical))}
    added = 0
    for category, terms in BUILTIN_TERMS.items():
        for canonical, synonyms in terms.items():
            if (category, canonical) not in existing:
                db.session.add(
                    Term(
                        category=category,
                        canonical=canonical,
                        synonyms=list(synonyms),
                        is_builtin=True,
                    )
                )
                added += 1
    db.session.flush()
    return added


def list_terms(*, actor, category=None, q=None):
    actor.require("news.view")
    stmt = select(Term)
    if category:
        stmt = stmt.where(Term.category == category)
    if q:
        stmt = stmt.where(
            or_(
                func.lower(Term.canonical).like(f"%{q.lower()}%"),
                func.lower(func.cast(Term.synonyms, db.String)).like(f"%{q.lower()}%"),
            )
        )
    return stmt.order_by(Term.category, Term.canonical)


def parse_synonyms(raw) -> list[str]:
    """One synonym per line (or comma-separated); errors name the offending line."""
    if isinstance(raw, str):
        items = [part for line in raw.splitlines() for part in line.split(",")]
    else:
        items = list(raw or [])
    out = []
    for number, item in enumerate(items, start=1):
        item = " ".join(str(item).split())
        if not item:
            continue
        if len(item) > 100:
            raise ValidationError({"synonyms": f"synonym {number} is longer than 100 characters"})
        if item == "=":
            raise ValidationError({"synonyms": f"synonym {number} is an empty exact match"})
        out.append(item)
    out = list(dict.fromkeys(out))
    if len(out) > MAX_SYNONYMS:
        raise ValidationError({"synonyms": f"at most {MAX_SYNONYMS} synonyms per term"})
    return out


def _validate_term(category, canonical):
    errors = {}
    if category not in TERM_CATEGORIES:
        errors["category"] = f"must be one of {', '.join(TERM_CATEGORIES)}"
    canonical = " ".join((canonical or "").split())
    if not canonical:
        errors["canonical"] = "is required"
    elif len(canonical) > 200:
        errors["canonical"] = "is longer than 200 characters"
    if errors:
        raise ValidationError(errors)
    return canonical


def create_term(category: str, canonical: str, synonyms, *, actor) -> Term:
    """Add a term to a list (news.terms.edit); takes effect for the next extraction."""
    actor.require("news.terms.edit")
    seed_terms()
    canonical = _validate_term(category, canonical)
    synonyms = parse_synonyms(synonyms)
    if db.session.scalar(
        select(Term.id).where(Term.category == category, Term.canonical == canonical)
    ):
        raise ValidationError({"canonical": f"{canonical!r} already exists in {category}"})
    term = Term(
        category=category, canonical=canonical, synonyms=synonyms, updated_by_id=actor.user_id
    )
    db.session.add(term)
    db.session.flush()
    return term


def update_term(term_id: int, *, canonical: str, synonyms, is_active: bool, actor) -> Term:
    actor.require("news.terms.edit")
    term = db.session.get(Term, term_id)
    if term is None:
        raise NotFound()
    canonical = _validate_term(term.category, canonical)
    clash = db.session.scalar(
        select(Term.id).where(
            Term.category == term.category, Term.canonical == canonical, Term.id != term.id
        )
    )
    if clash:
        raise ValidationError({"canonical": f"{canonical!r} already exists in {term.category}"})
    term.canonical = canonical
    term.synonyms = parse_synonyms(synonyms)
    term.is_active = bool(is_active)
    term.updated_by_id = actor.user_id
    db.session.flush()
    return term


def get_term(term_id: int, *, actor) -> Term:
    actor.require("news.view")
    term = db.session.get(Term, term_id)
    if term is None:
        raise NotFound()
    return term


# -- workbench --------------------------------------------------------------------------


@dataclass
class Candidate:
    category: str
    canonical: str
    articles: int
    matched_entity_id: int | None
    decision: WorkbenchDecision | None


def workbench_candidates(*, actor, category=None, show_decided=False, limit=200):
    """Persons, organisations, vehicles and vessels mentioned in articles, most frequent
    first, with the registry entity their name matches (if any) and any decision taken."""
    actor.require("news.view")
    cats = [category] if category in WORKBENCH_CATEGORIES else list(WORKBENCH_CATEGORIES)
    rows = db.session.execute(
        select(
            Mention.category,
            Mention.canonical,
            func.count(distinct(Mention.article_id)).label("n"),
            func.max(Mention.entity_id),
        )
        .where(Mention.category.in_(cats))
        .group_by(Mention.category, Mention.canonical)
        .order_by(func.count(distinct(Mention.article_id)).desc(), Mention.canonical)
    ).all()
    decisions = {
        (d.category, d.canonical): d for d in db.session.scalars(select(WorkbenchDecision))
    }
    out = []
    for cat, canonical, n, entity_id in rows:
        decision = decisions.get((cat, canonical))
        if decision is not None and not show_decided:
            continue
        out.append(Candidate(cat, canonical, n, entity_id, decision))
        if len(out) >= limit:
            break
    return out


def _mention_article_ids(category: str, canonical: str) -> list[int]:
    return db.session.scalars(
        select(Mention.article_id)
        .where(Mention.category == category, Mention.canonical == canonical)
        .distinct()
        .order_by(Mention.article_id)
    ).all()


def _decide(category, canonical, status, entity_id, actor) -> WorkbenchDecision:
    if category not in WORKBENCH_CATEGORIES:
        raise ValidationError({"category": f"must be one of {', '.join(WORKBENCH_CATEGORIES)}"})
    existing = db.session.scalar(
        select(WorkbenchDecision).where(
            WorkbenchDecision.category == category, WorkbenchDecision.canonical == canonical
        )
    )
    if existing is not None:
        raise ValidationError({"canonical": f"{canonical!r} was already {existing.status}"})
    decision = WorkbenchDecision(
        category=category,
        canonical=canonical,
        status=status,
        entity_id=entity_id,
        decided_by_id=actor.user_id,
    )
    db.session.add(decision)
    return decision


def _intel():
    from app.intel import service as intel

    return intel


def _link_articles(intel, entity_id, category, canonical, actor, limit=500) -> int:
    article_ids = _mention_article_ids(category, canonical)[:limit]
    for article_id in article_ids:
        intel.record_mention(entity_id, "article", article_id, "mentioned", actor=actor)
    db.session.execute(
        db.update(Mention)
        .where(Mention.category == category, Mention.canonical == canonical)
        .values(entity_id=entity_id)
    )
    return len(article_ids)


def promote_mention(
    category: str,
    canonical: str,
    *,
    actor,
    name: str | None = None,
    handling_code: str = "P",
    entity_type: str | None = None,
) -> WorkbenchDecision:
    """Create a registry entity from a mention (analyst-confirmed), with provenance back to
    the articles that mention it, and record those mentions. ``name`` and ``entity_type``
    are the analyst's corrections of the mention's text and category (the model may call a
    person an organisation); the extracted spelling is kept as an alias."""
    actor.require("news.workbench")
    article_ids = _mention_article_ids(category, canonical)
    if not article_ids:
        raise ValidationError({"canonical": f"no article mentions {canonical!r}"})
    entity_type = entity_type or category
    if entity_type not in ENTITY_TYPES:
        raise ValidationError({"entity_type": f"must be one of {', '.join(ENTITY_TYPES)}"})
    name = " ".join((name or canonical).split())
    if not name:
        raise ValidationError({"name": "is required"})
    intel = _intel()
    decision = _decide(category, canonical, "promoted", None, actor)
    entity = intel.create_entity(
        ENTITY_TYPES[entity_type],
        name,
        actor=actor,
        aliases=() if name == canonical else (canonical,),
        handling_code=handling_code,
        unit_id=actor.unit_id,
        # provenance: the first article that mentions it (the others are recorded as mentions)
        provenance=("article", article_ids[0]),
    )
    decision.entity_id = entity.id
    _link_articles(intel, entity.id, category, canonical, actor)
    db.session.flush()
    return decision


def link_mention(category: str, canonical: str, entity_id: int, *, actor) -> WorkbenchDecision:
    """Confirm that a mention is a known registry entity and record the mentions."""
    actor.require("news.workbench")
    if not _mention_article_ids(category, canonical):
        raise ValidationError({"canonical": f"no article mentions {canonical!r}"})
    intel = _intel()
    # need-to-know on the target: a code-C entity of another unit cannot be linked (404)
    if hasattr(intel, "get_entity"):
        entity_id = intel.get_entity(entity_id, actor=actor).id
    decision = _decide(category, canonical, "linked", entity_id, actor)
    _link_articles(intel, entity_id, category, canonical, actor)
    db.session.flush()
    return decision


def dismiss_mention(category: str, canonical: str, *, actor) -> WorkbenchDecision:
    """Dismiss one proposal (one trail row, as a batch of one)."""
    return dismiss_many([(category, canonical)], actor=actor)[0]


MAX_BULK = 200


def dismiss_many(items, *, actor) -> list[WorkbenchDecision]:
    """Dismiss several proposals at once: ``items`` are (category, canonical) pairs. All or
    nothing (one already decided refuses the batch, naming it); one trail row for the batch."""
    actor.require("news.workbench")
    items = list(dict.fromkeys(items))
    if not items:
        raise ValidationError({"item": "tick at least one proposal"})
    if len(items) > MAX_BULK:
        raise ValidationError({"item": f"at most {MAX_BULK} proposals at once"})
    decisions = [_decide(cat, canonical, "dismissed", None, actor) for cat, canonical in items]
    db.session.flush()
    trail.record(
        actor,
        "update",
        "news_workbench",
        None,
        details={"dismissed": [f"{d.category}: {d.canonical}" for d in decisions]},
    )
    return decisions


def undo_decision(decision_id: int, *, actor) -> None:
    """Reopen a dismissed proposal (promotions stay: the registry entity exists)."""
    actor.require("news.workbench")
    decision = db.session.get(WorkbenchDecision, decision_id)
    if decision is None:
        raise NotFound()
    if decision.status != "dismissed":
        raise ValidationError({"decision": "only dismissals can be undone"})
    trail.record(
        actor,
        "update",
        "news_workbench",
        None,
        details={"reopened": [f"{decision.category}: {decision.canonical}"]},
    )
    db.session.delete(decision)
    db.session.flush()
