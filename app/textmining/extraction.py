"""Glue between the stored term lists, the spaCy pipeline and the ``news_mention`` table."""

import logging

from flask import current_app
from sqlalchemy import func, select

from app.core import signals
from app.core.time import now_utc
from app.extensions import db
from app.textmining.ingest import detect_language, extraction_text
from app.textmining.models import Mention, Term, WorkbenchDecision
from app.textmining.nlp import Extractor, TermSpec, builtin_term_specs, extractor_for
from app.textmining.terms_builtin import WORKBENCH_CATEGORIES

log = logging.getLogger(__name__)

#: registry entity types a workbench category corresponds to
ENTITY_TYPES = {
    "person": "person",
    "organisation": "organisation",
    "vehicle": "vehicle",
    "vessel": "vessel",
}


def language_of(article, text: str) -> str:
    """The article's detected language, detected now if it was not stored; "" when the text
    is too short to tell (the statistical model then does not run on it)."""
    if article.language:
        return article.language
    return detect_language(text)[0] or ""


def term_specs() -> tuple[list[TermSpec], tuple]:
    """Active terms from the database (the built-in lists while the table is empty) and a
    version key that changes whenever a term is added, edited or removed."""
    count, latest = db.session.execute(select(func.count(Term.id), func.max(Term.updated_dt))).one()
    if not count:
        return builtin_term_specs(), ("builtin",)
    rows = db.session.scalars(select(Term).where(Term.is_active.is_(True))).all()
    specs = [TermSpec(t.category, t.canonical, tuple(t.synonyms or ())) for t in rows]
    return specs, (count, latest.isoformat() if latest else "", len(specs))


def model_setting() -> str | None:
    return current_app.config.get("TOLLGATE_NLP_MODEL", "auto")


def get_extractor(model: str | None = None) -> Extractor:
    """The pipeline for the current term lists (built lazily, cached per version)."""
    specs, version = term_specs()
    return extractor_for(specs, model if model is not None else model_setting(), version)


def extract_articles(articles, *, extractor: Extractor | None = None) -> None:
    """(Re)extract mentions for ``articles`` and link them to known registry entities."""
    extractor = extractor or get_extractor()
    texts = [extraction_text(a) for a in articles]
    languages = [language_of(a, text) for a, text in zip(articles, texts, strict=True)]
    results = extractor.extract_many(texts, languages=languages)
    linker = _EntityLinker()
    for article, found, language in zip(articles, results, languages, strict=True):
        if article.id is not None:
            db.session.execute(db.delete(Mention).where(Mention.article_id == article.id))
        for m in found:
            mention = Mention(
                article_id=article.id,
                category=m.category,
                text=m.text[:300],
                canonical=m.canonical[:300],
                start=m.start,
                end=m.end,
                sentence=m.sentence,
                source=m.source,
            )
            if m.category in WORKBENCH_CATEGORIES:
                mention.entity_id = linker.entity_for(m.category, mention.canonical, article.id)
            db.session.add(mention)
        article.extracted_dt = now_utc()
        article.extractor = extractor.name_for(language)
    db.session.flush()
    for article in articles:
        db.session.expire(article, ["mentions"])


class _EntityLinker:
    """Links mentions to registry entities.

    A name an analyst already promoted or linked in the workbench is linked (and the mention
    recorded in the registry) automatically. An exact match with the name of exactly one
    registry entity is noted on the mention for the analyst to confirm, and announced with
    ``entity_mentioned`` (role "name match, unconfirmed") so watches on that entity fire;
    nothing is written to the registry for it.
    """

    UNCONFIRMED = "name match, unconfirmed"

    def __init__(self):
        self.cache: dict[tuple[str, str], int | None] = {}
        self.done: set[tuple[int, int]] = set()
        rows = db.session.execute(
            select(WorkbenchDecision.category, WorkbenchDecision.canonical).where(
                WorkbenchDecision.entity_id.is_not(None)
            )
        ).all()
        self.confirmed = {(r.category, r.canonical.lower()) for r in rows}

    def entity_for(self, category: str, canonical: str, article_id: int) -> int | None:
        key = (category, canonical.lower())
        if key not in self.cache:
            self.cache[key] = self._lookup(category, canonical)
        entity_id = self.cache[key]
        if entity_id and (entity_id, article_id) not in self.done:
            self.done.add((entity_id, article_id))
            if key in self.confirmed:
                self._record(entity_id, article_id)
            else:
                signals.entity_mentioned.send(
                    None,
                    entity_id=entity_id,
                    record_type="article",
                    record_id=article_id,
                    role=self.UNCONFIRMED,
                    actor=None,
                )
        return entity_id

    def _lookup(self, category: str, canonical: str) -> int | None:
        decision = db.session.scalar(
            select(WorkbenchDecision).where(
                WorkbenchDecision.category == category,
                func.lower(WorkbenchDecision.canonical) == canonical.lower(),
            )
        )
        if decision is not None:
            return decision.entity_id
        return match_known_entity(category, canonical)

    def _record(self, entity_id: int, article_id: int) -> None:
        from app.intel import service as intel
        from app.security.access import Actor

        intel.record_mention(
            entity_id, "article", article_id, "mentioned", actor=Actor.system("textmining")
        )


def match_known_entity(category: str, canonical: str) -> int | None:
    """The id of a registry entity whose name or alias equals ``canonical``, if exactly one."""
    from app.intel import service as intel
    from app.security.access import Actor

    try:
        found = intel.find_entities(
            canonical, actor=Actor.system("textmining"), types=[ENTITY_TYPES[category]], limit=5
        )
    except Exception:  # noqa: BLE001 - the registry being unavailable must not stop ingest
        log.exception("entity lookup failed for %r", canonical)
        return None
    exact = [e for e in found if _names_of(e) & {canonical.lower()}]
    return exact[0].id if len(exact) == 1 else None


def _names_of(entity) -> set[str]:
    names = {str(getattr(entity, "name", "")).lower()}
    for alias in getattr(entity, "aliases", None) or ():
        names.add(str(getattr(alias, "name", alias)).lower())
    return names
