"""The whole feedparser test corpus as hostile input: every document stored or rejected
with a reason in one ``tollgate feeds import`` run, no crash, no hang, nothing active kept."""

import re
import signal

import pytest
from sqlalchemy import func, select

from app.textmining.models import Article, FeedFetch

pytestmark = [pytest.mark.data, pytest.mark.slow]
ACTIVE = re.compile(
    r"<script|<iframe|<object|<embed|<style|javascript:|vbscript:|\son\w+\s*=", re.IGNORECASE
)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("feeds import took longer than 15 minutes")


def test_feedparser_corpus(runner, db, shared_data, app):
    corpus = shared_data / "feedparser-tests"
    files = sorted(p for p in corpus.rglob("*.xml"))
    assert len(files) == 2106
    app.config["TOLLGATE_NLP_MODEL"] = "none"  # the model adds nothing to this test but time
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(900)
    try:
        result = runner.invoke(args=["feeds", "import", str(corpus)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        app.config["TOLLGATE_NLP_MODEL"] = "auto"
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.output[-2000:]
    lines = [line for line in result.output.splitlines() if line.startswith(("stored", "rejected"))]
    assert len(lines) == len(files)
    seen = set()
    for line in lines:
        status, rest = line.split(None, 1)
        path, _, detail = rest.partition(".xml: ")
        seen.add(path + ".xml")
        assert detail.strip(), f"no reason or count for {line!r}"
    assert seen == {str(p) for p in files}
    stored = sum(line.startswith("stored") for line in lines)
    rejected = len(lines) - stored
    print(
        f"\ncorpus: {stored} documents stored, {rejected} rejected, "
        f"{db.session.scalar(select(func.count(Article.id)))} articles"
    )
    assert stored > 300 and rejected > 0
    assert db.session.scalar(select(func.count(FeedFetch.id))) == len(files)
    for article_id, html, title in db.session.execute(
        select(Article.id, Article.html, Article.title)
    ):
        assert not ACTIVE.search(html), f"article {article_id} kept active content: {html!r}"
        assert "<" not in title or not ACTIVE.search(title)
    for message in db.session.scalars(
        select(FeedFetch.message).where(FeedFetch.outcome == "rejected")
    ):
        assert message, "a rejected document has no recorded reason"
