"""A chart saved in a case is listed on the case's page (issue 19 item 7), through the
record-panel registry: the cases domain does not import intel."""

from app.cases import service as cases
from app.extensions import db
from app.intel import graph
from tests.intel.factories import entity, officer


def test_a_saved_chart_is_listed_on_its_case(make, client):
    user, actor = officer(make)
    ids = [entity(actor, "Beta Cargo").id, entity(actor, "Gamma Freight").id]
    case = cases.open_case("seizure", actor=actor, title="Cigarettes in truck")
    chart = graph.save_chart(case.id, "Network of Beta Cargo", ids, actor=actor)
    other = cases.open_case("seizure", actor=actor, title="Another case")
    db.session.commit()
    make.sign_in(client, user)

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Saved charts" in page and "Network of Beta Cargo" in page
    assert f"/intel/chart?chart={chart.id}" in page
    # Only its own case lists it; a case with no chart shows no empty box.
    page = client.get(f"/cases/{other.id}").get_data(as_text=True)
    assert "Network of Beta Cargo" not in page and "Saved charts" not in page
