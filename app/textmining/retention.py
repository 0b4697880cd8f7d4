"""Retention review of open-source articles (app.core.retention): from when each was
collected. Delete removes it and its mentions (public text).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime

from app.core.retention import Overdue, RetentionSource, overdue, period, reindex
from app.extensions import db


def _articles_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.textmining.models import Article

    days = period("ARTICLE")
    old = Article.created_dt < now - days
    for article in overdue(
        Article, "article", old, order_by=(Article.created_dt, Article.id), limit=limit
    ):
        yield Overdue(
            str(article.id),
            article.created_dt + days,
            f"Article #{article.id} collected {article.created_dt:%Y-%m-%d}: {article.title}",
        )


def _article_delete(record_id: str, actor) -> None:
    from app.textmining.models import Article

    db.session.delete(db.session.get(Article, int(record_id)))
    reindex("article", record_id)


SOURCES = (
    RetentionSource(
        "article",
        "Open-source articles",
        _articles_overdue,
        delete=_article_delete,
        setting="ARTICLE",
        starts="after it was collected",
        order=50,
        policy="Delete removes the article and its mentions (public text, kept only while useful).",
    ),
)
