"""Articles are full-text searchable with everything else (app.search)."""

import pytest

from app.search import service as search


@pytest.fixture(params=["whoosh", "postgres"])
def backend(request, db):
    if request.param == "postgres" and db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL search backend needs TOLLGATE_TEST_DB=postgres")
    engine = search.get_backend(request.param)
    engine.clear()
    db.session.commit()
    yield request.param
    db.session.rollback()
    engine.clear()
    db.session.commit()


def test_new_articles_are_indexed_and_found(db, make, backend, rules_extractor):
    from tests.textmining import factories

    factories.article(
        "Jordanian customs seized 2 million captagon pills in a truck from Syria.",
        title="Captagon in a truck",
        extractor=rules_extractor,
    )
    factories.article(
        "Cocaine in a container at Koper.", title="Cocaine at Koper", extractor=rules_extractor
    )
    db.session.commit()
    assert search.apply_index_queue(backend) >= 2
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    result = search.search(analyst, "captagon", types=["article"], backend=backend)
    assert [h.title for h in result.hits] == ["Captagon in a truck"]
    assert result.hits[0].url.startswith("/news/articles/")
    nobody = make.actor(make.user(roles=["administrator"]))
    nobody.permissions = frozenset({"search.use"})  # may search, may not read news
    assert search.search(nobody, "captagon", backend=backend).total == 0
