"""What the news domain offers to search: articles, with the names they mention."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.search.registry import SearchDoc, SearchSource
from app.textmining.models import Article

NAME_CATEGORIES = {"person", "organisation", "vehicle", "vessel", "crossing", "commodity"}


def article_documents(ids):
    stmt = select(Article).options(selectinload(Article.mentions), selectinload(Article.feed))
    if ids is not None:
        stmt = stmt.where(Article.id.in_(list(ids)))
    for article in db.session.scalars(stmt.execution_options(yield_per=200)):
        names = sorted({m.canonical for m in article.mentions if m.category in NAME_CATEGORIES})
        yield SearchDoc(
            record_type="article",
            record_id=article.id,
            title=article.title or "(untitled)",
            body=article.text,
            names=names,
            date=article.when,
            handling_code="P",
            facets={
                "language": article.language or "",
                "feed": article.feed.title if article.feed else "",
            },
        )


def visible_article_ids(actor, ids):
    # Open-source articles: every holder of news.view may open every article.
    return list(ids) if actor.can("news.view") else []


def article_search_source() -> SearchSource:
    return SearchSource(
        record_type="article",
        label="News articles",
        permission="news.view",
        documents=article_documents,
        visible_ids=visible_article_ids,
        url=lambda record_id: url_for("textmining.article", article_id=record_id),
    )
