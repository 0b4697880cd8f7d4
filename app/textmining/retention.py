"""Retention review of open-source articles (app.core.retention): from when each was
collected. Delete removes it and its mentions (public text).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

from app.core.retention import (
    Overdue,
    not_decided,
    period_days,
    register_sources,
    reindex,
)
from app.extensions import db


def _articles_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.textmining.models import Article

    period = timedelta(days=period_days("ARTICLE", 365))
    stmt = (
        select(Article)
        .where(Article.created_dt < now - period, not_decided("article", Article.id))
        .order_by(Article.created_dt, Article.id)
        .limit(limit)
    )
    for article in db.session.scalars(stmt):
        yield Overdue(
            str(article.id),
            article.created_dt + period,
            f"Article #{article.id} collected {article.created_dt:%Y-%m-%d}: {article.title}",
        )


def _article_delete(record_id: str, actor) -> None:
    from app.textmining.models import Article

    db.session.delete(db.session.get(Article, int(record_id)))
    reindex("article", record_id)


#: (record type, label, setting, default days, what starts the period, functions, policy)
SOURCES = (
    (
        "article",
        "Open-source articles",
        "ARTICLE",
        365,
        "after it was collected",
        {"list_overdue": _articles_overdue, "delete": _article_delete},
        "Delete removes the article and its mentions (public text, kept only while useful).",
    ),
)


def register(app) -> None:
    register_sources(app, SOURCES)
