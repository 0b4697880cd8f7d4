"""Distinctions split out of the built-in term lists, applied to what is already stored.

Networks are not stored: they are computed from the mentions of the articles in the period.
So a split (``terms_builtin.TERM_SPLITS``: "drone" out of "private aircraft") reaches the
networks once (1) the stored built-in term rows no longer carry the moved synonyms and hold
the new term, and (2) the stored mentions of the moved spellings carry the new canonical
term. Both are done here, idempotently; ``seed_terms`` and ``reextract`` (the CLI command
and the term-list page's button) run it first.
"""

from sqlalchemy import func, select, update

from app.extensions import db
from app.textmining.models import Mention, Term
from app.textmining.nlp import TermSpec, expand_synonyms
from app.textmining.terms_builtin import BUILTIN_TERMS, SPLIT_FORMS, TERM_SPLITS


def _split_term_rows() -> int:
    rows = {(t.category, t.canonical): t for t in db.session.scalars(select(Term))}
    if not rows:  # the built-in lists apply directly while the table is empty
        return 0
    changed = 0
    for category, old, new in TERM_SPLITS:
        moved = set(SPLIT_FORMS[(category, new)])
        source = rows.get((category, old))
        if source is not None and source.is_builtin:
            keep = [s for s in source.synonyms or [] if s.strip().lower() not in moved]
            if keep != list(source.synonyms or []):
                source.synonyms = keep
                changed += 1
        if (category, new) not in rows:
            term = Term(
                category=category,
                canonical=new,
                synonyms=list(BUILTIN_TERMS[category][new]),
                is_builtin=True,
            )
            db.session.add(term)
            rows[(category, new)] = term
            changed += 1
    return changed


def _split_mentions() -> int:
    moved = 0
    for category, old, new in TERM_SPLITS:
        forms = expand_synonyms(TermSpec(category, new, SPLIT_FORMS[(category, new)]))
        result = db.session.execute(
            update(Mention)
            .where(
                Mention.category == category,
                Mention.canonical == old,
                func.lower(Mention.text).in_(forms),
            )
            .values(canonical=new)
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount or 0
    return moved


def apply_term_splits() -> tuple[int, int]:
    """(term rows changed or added, stored mentions moved to their new term)."""
    terms = _split_term_rows()
    db.session.flush()
    mentions = _split_mentions()
    db.session.flush()
    return terms, mentions
