"""Feed documents → articles: sanitising, identity, near-duplicates, language, keywords."""

import re

import pytest
from sqlalchemy import func, select

from app.core import signals
from app.textmining import feeds
from app.textmining.ingest import (
    DocumentRejected,
    minhash,
    parse_document,
    sanitize_html,
    similarity,
)
from app.textmining.models import Article, FeedFetch, Mention
from tests.textmining import factories

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Seizure news</title><link>https://news.example/</link>
<ttl>90</ttl>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<pubDate>Tue, 06 Jan 2026 08:00:00 GMT</pubDate>
<description><![CDATA[{body}]]></description></item>"""

DANGEROUS = (
    '<p onclick="steal()">Customs seized <b>40 kg</b> of cocaine in a truck.</p>'
    '<script>alert(1)</script><img src="http://tracker.example/p.gif" onerror="x()">'
    '<a href="javascript:alert(2)">click</a> <a href="https://ok.example/a">source</a>'
    '<style>body{display:none}</style><iframe src="https://evil.example"></iframe>'
)


def _doc(*items) -> bytes:
    return RSS.format(items="\n".join(ITEM.format(**i) for i in items)).encode()


def _item(n, body="Customs seized cocaine in a container at the Port of Koper.", **kw):
    return {
        "title": kw.get("title", f"Seizure {n}"),
        "link": kw.get("link", f"https://news.example/{n}"),
        "guid": kw.get("guid", f"urn:news:{n}"),
        "body": body,
    }


def test_sanitiser_keeps_text_and_drops_active_content():
    clean = sanitize_html(DANGEROUS)
    lowered = clean.lower()
    assert "<script" not in lowered and "alert(1)" not in lowered
    assert "onclick" not in lowered and "onerror" not in lowered
    assert "javascript:" not in lowered and "<iframe" not in lowered and "<style" not in lowered
    assert "<img" not in lowered  # remote images would let a feed track the analyst
    assert 'href="https://ok.example/a"' in clean and "<b>40 kg</b>" in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_import_stores_sanitised_articles_once(db, rules_extractor):
    feed = factories.feed(keywords=["cocaine", "heroin", "Port of Koper"])
    data = _doc(_item(1, body=DANGEROUS), _item(2))
    first = feeds.import_bytes(data, feed=feed, source="test", extractor=rules_extractor)
    assert (first.status, first.new, first.duplicates) == ("stored", 2, 0)
    again = feeds.import_bytes(data, feed=feed, source="test", extractor=rules_extractor)
    assert (again.status, again.new, again.duplicates) == ("stored", 0, 2)
    article = db.session.scalar(select(Article).where(Article.guid == "urn:news:1"))
    assert "<script" not in article.html and "onclick" not in article.html
    assert "Customs seized 40 kg of cocaine in a truck." in article.text
    assert article.keywords == ["cocaine"]
    second = db.session.scalar(select(Article).where(Article.guid == "urn:news:2"))
    assert second.keywords == ["cocaine", "Port of Koper"]
    assert article.published_dt.isoformat().startswith("2026-01-06T08:00")
    cats = {(m.category, m.canonical) for m in article.mentions}
    assert {("commodity", "cocaine"), ("transport", "truck"), ("quantity", "40 kg")} <= cats
    assert article.extractor == "rules" and article.extracted_dt is not None
    logs = db.session.scalars(select(FeedFetch).where(FeedFetch.feed_id == feed.id)).all()
    assert [(f.outcome, f.new_articles, f.duplicates) for f in logs] == [("ok", 2, 0), ("ok", 0, 2)]


def test_identity_falls_back_from_guid_to_url_to_content(db, rules_extractor):
    feed = factories.feed()
    no_guid = RSS.format(
        items="""
      <item><title>Same link</title><link>https://news.example/x</link><description>one</description></item>
      <item><title>Same link again</title><link>https://news.example/x</link><description>two</description></item>
      <item><title>No link</title><description>Heroin found in a van.</description></item>
      <item><title>No link</title><description>Heroin found in a van.</description></item>
    """
    ).encode()
    outcome = feeds.import_bytes(no_guid, feed=feed, source="t", extractor=rules_extractor)
    assert (outcome.new, outcome.duplicates) == (2, 2)


def test_near_duplicates_across_feeds_are_grouped(db, rules_extractor):
    body = (
        "Customs officers at the Port of Koper seized 120 kg of cocaine hidden in a "
        "refrigerated container of bananas from Ecuador on Tuesday night. The drugs were "
        "packed in 100 bricks under the fruit. Police arrested the driver of the truck."
    )
    variant = body.replace("Tuesday night", "Tuesday evening").replace("Police", "The police")
    other = "Customs at Tabanovce found 2.4 million cigarettes in a lorry declared as furniture."
    a = factories.article(
        body, title="Cocaine at Koper", feed_row=factories.feed(), extractor=rules_extractor
    )
    b = factories.article(
        variant, title="Cocaine at Koper", feed_row=factories.feed(), extractor=rules_extractor
    )
    c = factories.article(other, title="Cigarettes at Tabanovce", extractor=rules_extractor)
    assert similarity(minhash(body), minhash(variant)) >= 0.6
    assert similarity(minhash(body), minhash(other)) < 0.2
    assert a.group_id == a.id and b.group_id == a.id and c.group_id == c.id


def test_language_is_detected(db, rules_extractor):
    en = factories.article(
        "Customs officers seized a large quantity of cigarettes at the "
        "border crossing yesterday evening.",
        extractor=rules_extractor,
    )
    de = factories.article(
        "Der Zoll hat am Flughafen Frankfurt eine große Menge Kokain in "
        "einem Koffer sichergestellt.",
        extractor=rules_extractor,
    )
    fr = factories.article(
        "Les douaniers ont saisi une importante quantité de cigarettes "
        "de contrebande dans un camion au poste frontière.",
        extractor=rules_extractor,
    )
    assert (en.language, de.language, fr.language) == ("en", "de", "fr")


def test_signals_are_sent_for_new_articles(db, rules_extractor):
    stored, indexed = [], []

    def on_stored(sender, article, actor):
        stored.append((article.id, {m.canonical for m in article.mentions}, actor))

    def on_index(sender, record_type, record_id):
        indexed.append((record_type, record_id))

    signals.article_stored.connect(on_stored)
    signals.search_index_requested.connect(on_index)
    try:
        article = factories.article("Heroin in a truck.", extractor=rules_extractor)
    finally:
        signals.article_stored.disconnect(on_stored)
        signals.search_index_requested.disconnect(on_index)
    assert stored == [(article.id, {"heroin", "truck"}, None)]
    assert ("article", article.id) in indexed


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b"   \n", "empty document"),
        (b"<html><body>not a feed</body></html>", "no entries"),
        (
            b'<rss version="2.0"><channel><item><title></title></item></channel></rss>',
            "no title and no text",
        ),
        (b'<rss version="2.0"><channel><title>x</title></rssamp', "not a usable feed"),
    ],
)
def test_unusable_documents_are_rejected_with_a_reason(data, reason):
    with pytest.raises(DocumentRejected, match=reason):
        parse_document(data)


def test_rejection_is_recorded_and_nothing_is_stored(db, rules_extractor):
    feed = factories.feed()
    outcome = feeds.import_bytes(
        b"<rss><channel></rssamp", feed=feed, source="broken.xml", extractor=rules_extractor
    )
    assert outcome.status == "rejected" and "not a usable feed" in outcome.reason
    assert "rejected  broken.xml" in outcome.line()
    log = db.session.scalar(select(FeedFetch).where(FeedFetch.feed_id == feed.id))
    assert log.outcome == "rejected" and "not a usable feed" in log.message
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_import_cli_file_and_directory(runner, db, tmp_path):
    (tmp_path / "a.xml").write_bytes(_doc(_item(1), _item(2)))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.xml").write_bytes(b"<rss><channel></rssamp")
    (tmp_path / "notes.txt").write_text("ignored: not a feed document suffix")
    result = runner.invoke(args=["feeds", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "stored    " in result.output and "a.xml: 2 new" in result.output
    assert "rejected  " in result.output and "b.xml: not a usable feed" in result.output
    assert "1 documents stored (2 new articles), 1 rejected" in result.output
    again = runner.invoke(args=["feeds", "import", str(tmp_path / "a.xml")])
    assert "0 new, 2 already known" in again.output
    assert db.session.scalar(select(func.count(Article.id))) == 2
    assert db.session.scalar(select(func.count(Mention.id))) > 0


def test_no_stored_html_keeps_active_content(db, rules_extractor):
    feed = factories.feed()
    items = [_item(i, body=DANGEROUS.replace("40 kg", f"{i} kg")) for i in range(5)]
    feeds.import_bytes(_doc(*items), feed=feed, source="t", extractor=rules_extractor)
    for html in db.session.scalars(select(Article.html)):
        assert not re.search(r"<script|javascript:|\son\w+\s*=", html, re.IGNORECASE)


def test_grouping_finds_the_duplicate_among_many(db, rules_extractor):
    import random

    from app.textmining.ingest import Grouper, ParsedEntry, store_entries

    rng = random.Random(3)
    words = [
        "customs",
        "officers",
        "seized",
        "cocaine",
        "heroin",
        "cigarettes",
        "truck",
        "container",
        "port",
        "border",
        "night",
        "driver",
        "arrested",
        "hidden",
        "cargo",
        "smuggling",
        "police",
        "route",
        "vessel",
    ]
    story = (
        "Customs officers at the Port of Koper seized 140 kg of cocaine hidden in a "
        "refrigerated container of bananas from Ecuador on Tuesday night; the driver "
        "of the truck that collected it was arrested."
    )
    entries = [
        ParsedEntry(
            f"urn:noise:{i}",
            None,
            f"Noise {i}",
            "",
            " ".join(rng.choice(words) for _ in range(40)),
            None,
        )
        for i in range(300)
    ]
    entries.append(ParsedEntry("urn:story:1", None, "Koper", "", story, None))
    grouper = Grouper()
    first = store_entries(None, entries, extractor=rules_extractor, grouper=grouper)
    original = first.new[-1]
    rewrite = story.replace("Tuesday night", "Tuesday evening").replace(
        "was arrested", "has been arrested"
    )
    second = store_entries(
        None,
        [ParsedEntry("urn:story:2", None, "Koper", "", rewrite, None)],
        extractor=rules_extractor,
        grouper=grouper,
    )
    assert second.new[0].group_id == original.id
    groups = {a.group_id for a in first.new[:-1]}
    assert original.id not in groups


def test_oversized_and_unreadable_files_are_rejected(db, app, tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * 2048 + b"</rss>")
    app.config["TOLLGATE_FEED_MAX_BYTES"] = 1024
    try:
        outcome = feeds.import_file(big)
    finally:
        app.config["TOLLGATE_FEED_MAX_BYTES"] = 5 * 1024 * 1024
    assert outcome.status == "rejected" and outcome.reason == "file larger than 1024 bytes"
    missing = feeds.import_file(tmp_path / "gone.xml")
    assert missing.status == "rejected" and "cannot read file" in missing.reason
