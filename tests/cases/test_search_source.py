"""Cases are found through the shared search, within need-to-know."""

import pytest

from app.cases import parties
from app.search import service as search
from tests.cases.factories import entity, officer, seizure


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


def test_cases_are_indexed_and_filtered_by_need_to_know(make, db, backend):
    _, owner = officer(make)
    _, outsider = officer(make)
    case = seizure(
        owner, title="Heroin in a fuel tank", handling_code="C", conveyance="Truck 07-555-KS"
    )
    parties.add_party(
        case.id, actor=owner, role="driver", entity_id=entity(owner, "Fatmir Krasniqi").id
    )
    seizure(owner, title="Cigarettes under the floor")
    db.session.commit()
    search.apply_index_queue(backend)
    found = search.search(owner, "heroin", backend=backend, types=["case"])
    assert [h.title for h in found.hits] == [f"{case.reference} Heroin in a fuel tank"]
    assert search.search(owner, "Krasniqi", backend=backend, types=["case"]).total == 1
    assert search.search(outsider, "heroin", backend=backend, types=["case"]).total == 0
    assert search.search(outsider, "cigarettes", backend=backend, types=["case"]).total == 1
