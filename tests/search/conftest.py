import pytest

from app.search import service


def _backends():
    return ["whoosh", "postgres"]


@pytest.fixture(params=_backends())
def backend(request, db):
    """Each search test runs on Whoosh and, on a PostgreSQL database, on PostgreSQL too."""
    if request.param == "postgres" and db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL search backend needs TOLLGATE_TEST_DB=postgres")
    engine = service.get_backend(request.param)
    engine.clear()
    db.session.commit()
    yield request.param
    db.session.rollback()
    engine.clear()
    db.session.commit()
