"""Demo news: saved feed documents (``demo_feeds/``) imported into offline feeds, with
publication dates moved so the newest item is from yesterday (the network and the period
comparison then have something to show on first run). Idempotent."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.core.time import now_utc
from app.extensions import db
from app.textmining import feeds, service
from app.textmining.extraction import get_extractor
from app.textmining.ingest import Grouper
from app.textmining.models import Article, Feed

DEMO_DIR = Path(__file__).resolve().parent / "demo_feeds"
DEMO_KEYWORDS = [
    "cocaine",
    "heroin",
    "cigarettes",
    "smuggling",
    "seizure",
    "customs",
    "captagon",
    "firearms",
    "counterfeit",
    "cash",
]


def demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.xml"))


class _LazyExtractor:
    """The NLP pipeline, built on first use: a re-run that finds every demo article stored
    already never loads the language model."""

    def __init__(self):
        self._extractor = None

    def __getattr__(self, name):
        if self._extractor is None:
            self._extractor = get_extractor()
        return getattr(self._extractor, name)


def load_textmining_demo(options=None) -> None:
    service.seed_terms()
    extractor = _LazyExtractor()
    before = set(db.session.scalars(select(Article.id)))
    grouper = Grouper()
    for path in demo_files():
        feed = feeds.offline_feed(f"demo/{path.stem}")
        feed.title = "Demo: " + path.stem.replace("_", " ").replace("-", " ")
        feed.keywords = DEMO_KEYWORDS
        feeds.import_file(path, feed=feed, extractor=extractor, grouper=grouper)
    new_ids = set(db.session.scalars(select(Article.id))) - before
    if new_ids:
        _shift_dates(new_ids)
    db.session.flush()


def _shift_dates(article_ids) -> None:
    """Move the new demo articles' dates so the newest is yesterday (same spacing)."""
    newest = db.session.scalar(
        select(func.max(Article.published_dt)).where(Article.id.in_(article_ids))
    )
    if newest is None:
        return
    target = now_utc().replace(
        hour=newest.hour, minute=newest.minute, second=0, microsecond=0
    ) - timedelta(days=1)
    shift = target - newest
    for article in db.session.scalars(select(Article).where(Article.id.in_(article_ids))):
        if article.published_dt is not None:
            article.published_dt = article.published_dt + shift


def demo_feed_ids() -> list[int]:
    return db.session.scalars(
        select(Feed.id).where(Feed.url.like(feeds.OFFLINE_PREFIX + "demo/%"))
    ).all()
