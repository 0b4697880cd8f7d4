"""News pages through the test client: reading, feed and term administration, workbench."""

import pytest
from sqlalchemy import select

from app.textmining import service
from app.textmining.extraction import get_extractor
from app.textmining.models import Feed, Term, WorkbenchDecision
from tests.fake_dns import fake_dns
from tests.textmining import factories

ARTICLE = (
    "Customs at the Port of Koper seized 140 kg of cocaine in a container of bananas "
    "from Ecuador on Tuesday night. The driver, Goran Petrovski, was arrested. "
    "<b>Bold</b> claims were made."
)


@pytest.fixture
def stored(db, rules_extractor):
    feed = factories.feed(title="Balkan wire", keywords=["cocaine"])
    a = factories.article(
        ARTICLE, title="Cocaine seized at Koper", feed_row=feed, extractor=rules_extractor
    )
    b = factories.article(
        "Heroin found in a truck at Kapitan Andreevo.",
        feed_row=feed,
        title="Heroin at the border",
        extractor=rules_extractor,
    )
    db.session.commit()
    return a, b


def test_article_list_and_filters(client, login_as, stored):
    login_as("risk_analyst")
    page = client.get("/news/").get_data(as_text=True)
    assert "Cocaine seized at Koper" in page and "Heroin at the border" in page
    page = client.get("/news/?category=commodity&term=heroin").get_data(as_text=True)
    assert "Heroin at the border" in page and "Cocaine seized at Koper" not in page
    page = client.get("/news/?q=koper").get_data(as_text=True)
    assert "Cocaine seized at Koper" in page and "Heroin at the border" not in page
    page = client.get("/news/?keyword=cocaine").get_data(as_text=True)
    assert "Cocaine seized at Koper" in page and "Heroin at the border" not in page


def test_article_page_highlights_mentions_and_escapes(client, login_as, stored):
    login_as("enforcement_officer")
    html = client.get(f"/news/articles/{stored[0].id}").get_data(as_text=True)
    assert (
        '<mark class="mention mention-commodity" title="Commodity: cocaine">cocaine</mark>' in html
    )
    assert 'title="Border crossing, port, airport: Port of Koper">Port of Koper</mark>' in html
    assert "mention-transport" in html and "mention-timeframe" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_network_pages(client, login_as, stored):
    login_as("intelligence_officer")
    html = client.get("/news/network?category_a=commodity&category_b=transport&min_count=1")
    assert html.status_code == 200 and "cocaine" in html.get_data(as_text=True)
    data = client.get("/news/network.json?min_count=1").get_json()
    edge = next(
        e
        for e in data["edges"]
        if {e["source"], e["target"]} == {"commodity:cocaine", "transport:container"}
    )
    assert edge["url"].startswith("/news/network/edge?")
    page = client.get(edge["url"]).get_data(as_text=True)
    assert "Cocaine seized at Koper" in page and "Heroin at the border" not in page
    export = client.get("/news/network/export?format=gexf&min_count=1")
    assert export.status_code == 200 and b"<gexf" in export.data
    assert "attachment" in export.headers["Content-Disposition"]
    assert client.get("/news/network/compare").status_code == 200
    bad = client.get("/news/network.json?min_count=zero")
    assert bad.status_code == 422


def test_network_page_reports_bad_filters(client, login_as, stored):
    login_as("risk_analyst")
    html = client.get("/news/network?since=someday").get_data(as_text=True)
    assert "since: must be a date" in html


def test_feed_administration(client, login_as, db, monkeypatch):
    fake_dns(monkeypatch, {"wire.example": "93.184.215.14"})  # a public address
    login_as("administrator")
    resp = client.post("/news/feeds/new", data={"title": "Wire", "url": "ftp://x.example/rss"})
    assert "must be an http:// or https:// address" in resp.get_data(as_text=True)
    resp = client.post(
        "/news/feeds/new",
        data={
            "title": "Wire",
            "url": "https://wire.example/rss",
            "keywords": "cocaine, heroin\ncaptagon",
            "interval_minutes": "30",
        },
    )
    assert resp.status_code == 302
    feed = db.session.scalar(select(Feed).where(Feed.url == "https://wire.example/rss"))
    assert feed.keywords == ["cocaine", "heroin", "captagon"] and feed.interval_minutes == 30
    dup = client.post("/news/feeds/new", data={"title": "Again", "url": "https://wire.example/rss"})
    assert "already registered" in dup.get_data(as_text=True)
    client.post(f"/news/feeds/{feed.id}/pause")
    db.session.refresh(feed)
    assert feed.status == "paused"
    client.post(f"/news/feeds/{feed.id}/resume")
    db.session.refresh(feed)
    assert feed.status == "active"
    client.post("/news/hosts", data={"host": "mirror.customs.local", "note": "intranet"})
    assert "mirror.customs.local" in client.get("/news/feeds").get_data(as_text=True)


def test_feed_test_button_shows_the_guard(client, login_as, db):
    feed = factories.feed(url="http://127.0.0.1:9/rss")
    db.session.commit()
    login_as("administrator")
    html = client.post(f"/news/feeds/{feed.id}/test").get_data(as_text=True)
    assert "Test failed" in html and "non-public address 127.0.0.1" in html


def test_term_editing_changes_extraction(client, login_as, db, app):
    login_as("intelligence_officer")
    app.config["TOLLGATE_NLP_MODEL"] = "none"
    try:
        assert not [
            m for m in get_extractor().extract("They sold kratom.") if m.category == "commodity"
        ]
        resp = client.post(
            "/news/terms/new",
            data={"category": "commodity", "canonical": "kratom", "synonyms": "mitragyna\nketum"},
        )
        assert resp.status_code == 302
        assert db.session.scalar(select(Term).where(Term.canonical == "cocaine")) is not None
        found = get_extractor().extract("Bags of ketum and kratom were seized.")
        assert [(m.canonical, m.text) for m in found] == [("kratom", "ketum"), ("kratom", "kratom")]
        term = db.session.scalar(select(Term).where(Term.canonical == "kratom"))
        resp = client.post(
            f"/news/terms/{term.id}", data={"canonical": "kratom", "synonyms": "ketum"}
        )
        assert resp.status_code == 302  # is_active unticked: the term is switched off
        assert not get_extractor().extract("Bags of ketum and kratom were seized.")
        bad = client.post(
            "/news/terms/new",
            data={"category": "commodity", "canonical": "x", "synonyms": "y" * 101},
        )
        assert "synonym 1 is longer than 100 characters" in bad.get_data(as_text=True)
    finally:
        app.config["TOLLGATE_NLP_MODEL"] = "auto"


def test_reextract_applies_new_terms(client, login_as, db, app, stored):
    app.config["TOLLGATE_NLP_MODEL"] = "none"
    try:
        login_as("intelligence_officer")
        client.post(
            "/news/terms/new",
            data={"category": "concealment", "canonical": "claims", "synonyms": "bold claims"},
        )
        client.post("/news/terms/reextract")
        db.session.expire_all()
        article = service.get_article(stored[0].id, actor=_system())
        assert ("concealment", "claims") in {(m.category, m.canonical) for m in article.mentions}
    finally:
        app.config["TOLLGATE_NLP_MODEL"] = "auto"


def _system():
    from app.security.access import Actor

    return Actor.system("test")


def _intel_available():
    try:
        from app.intel import service as intel  # noqa: F401
    except ImportError:
        return False
    return True


needs_intel = pytest.mark.skipif(not _intel_available(), reason="entity registry not present")


@needs_intel
def test_workbench_promotes_links_and_dismisses(client, login_as, db, stored, rules_extractor):
    from app.intel import service as intel
    from app.intel.models import Entity

    user = login_as("intelligence_officer")
    factories.article(
        "Goran Petrovski was seen with the truck with plates SK-4471-BA again.",
        extractor=rules_extractor,
    )
    db.session.commit()
    # rules alone do not find persons: add one mention as the model would
    from app.textmining.models import Mention

    for article in stored:
        db.session.add(
            Mention(
                article_id=article.id,
                category="person",
                text="Goran Petrovski",
                canonical="Goran Petrovski",
                start=0,
                end=1,
                source="model",
            )
        )
    db.session.commit()
    page = client.get("/news/workbench").get_data(as_text=True)
    assert "Goran Petrovski" in page and "SK-4471-BA" in page
    assert db.session.scalar(select(Entity.id)) is None  # nothing written without a decision

    resp = client.post(
        "/news/workbench/promote", data={"category": "person", "canonical": "Goran Petrovski"}
    )
    assert resp.status_code == 302
    decision = db.session.scalar(select(WorkbenchDecision))
    entity = db.session.get(Entity, decision.entity_id)
    assert entity.name == "Goran Petrovski" and entity.entity_type == "person"
    mentioned = {m.record_id for m in intel.mentions_of(entity) if m.record_type == "article"}
    assert mentioned == {stored[0].id, stored[1].id}

    vehicle = intel.create_entity("vehicle", "SK-4471-BA", actor=_actor(user))
    db.session.commit()
    resp = client.post(
        "/news/workbench/link",
        data={"category": "vehicle", "canonical": "SK-4471-BA", "entity_id": vehicle.id},
    )
    assert resp.status_code == 302
    assert (
        db.session.scalar(
            select(WorkbenchDecision).where(WorkbenchDecision.category == "vehicle")
        ).status
        == "linked"
    )
    again = client.post(
        "/news/workbench/dismiss",
        data={"category": "vehicle", "canonical": "SK-4471-BA"},
        follow_redirects=True,
    )
    assert "was already linked" in again.get_data(as_text=True)

    # a later article naming a confirmed entity is linked automatically
    later = factories.article(
        "Customs stopped the truck SK-4471-BA, registration plates SK-4471-BA, again.",
        extractor=rules_extractor,
    )
    assert any(m.entity_id == vehicle.id for m in later.mentions if m.category == "vehicle")
    assert later.id in {m.record_id for m in intel.mentions_of(vehicle)}


def _actor(user):
    from app.security.access import Actor

    return Actor.for_user(user)


def test_workbench_dismiss_and_reopen(client, login_as, db, stored):
    login_as("intelligence_officer")
    from app.textmining.models import Mention

    db.session.add(
        Mention(
            article_id=stored[0].id,
            category="organisation",
            text="Europol",
            canonical="Europol",
            start=0,
            end=1,
            source="model",
        )
    )
    db.session.commit()
    client.post(
        "/news/workbench/dismiss", data={"category": "organisation", "canonical": "Europol"}
    )
    assert 'value="Europol"' not in client.get("/news/workbench").get_data(as_text=True)
    decision = db.session.scalar(select(WorkbenchDecision))
    client.post(f"/news/workbench/decisions/{decision.id}/undo")
    assert 'value="Europol"' in client.get("/news/workbench").get_data(as_text=True)


def test_search_source_documents(db, stored, app):
    from app.search.registry import search_sources

    source = search_sources(app)["article"]
    docs = {d.record_id: d for d in source.documents([stored[0].id])}
    assert docs[stored[0].id].title == "Cocaine seized at Koper"
    assert "Port of Koper" in docs[stored[0].id].names
    assert source.visible_ids(_system(), [1, 2]) == [1, 2]


def test_home_panel_lists_latest_news(client, login_as, stored):
    login_as("supervisor")
    html = client.get("/").get_data(as_text=True)
    assert "Latest news" in html and "Cocaine seized at Koper" in html


@needs_intel
def test_workbench_link_respects_need_to_know(client, login_as, db, stored, make):
    from app.intel import service as intel
    from app.textmining.models import Mention

    db.session.add(
        Mention(
            article_id=stored[0].id,
            category="person",
            text="Ana Kovac",
            canonical="Ana Kovac",
            start=0,
            end=1,
            source="model",
        )
    )
    other_unit = make.unit()
    owner = make.user(roles=["intelligence_officer"], unit=other_unit)
    secret = intel.create_entity(
        "person", "Ana Kovac", actor=_actor(owner), handling_code="C", unit_id=other_unit.id
    )
    db.session.commit()
    login_as("intelligence_officer")
    html = client.get("/news/workbench").get_data(as_text=True)
    assert 'name="entity_id"' in html and "Link</button>" in html
    resp = client.post(
        "/news/workbench/link",
        data={"category": "person", "canonical": "Ana Kovac", "entity_id": secret.id},
    )
    assert resp.status_code == 404
    assert db.session.scalar(select(WorkbenchDecision)) is None
    resp = client.post(
        "/news/workbench/link",
        data={"category": "person", "canonical": "Ana Kovac", "entity_id": 999999},
        follow_redirects=True,
    )
    assert resp.status_code == 404 or "no such entity" in resp.get_data(as_text=True)
    assert db.session.scalar(select(WorkbenchDecision)) is None


@needs_intel
def test_exact_name_match_is_announced_not_registered(db, make, rules_extractor):
    from app.core import signals
    from app.intel import service as intel

    user = make.user(roles=["intelligence_officer"])
    truck = intel.create_entity("vehicle", "KS-1234-AB", actor=_actor(user))
    db.session.commit()
    heard = []

    def on_mention(sender, **kw):
        heard.append((kw["entity_id"], kw["record_type"], kw["role"]))

    signals.entity_mentioned.connect(on_mention)
    try:
        article = factories.article(
            "The lorry with plates KS-1234-AB was stopped at Blace.", extractor=rules_extractor
        )
    finally:
        signals.entity_mentioned.disconnect(on_mention)
    assert heard == [(truck.id, "article", "name match, unconfirmed")]
    vehicle = next(m for m in article.mentions if m.category == "vehicle")
    assert vehicle.entity_id == truck.id
    assert intel.mentions_of(truck) == []  # nothing written to the registry
