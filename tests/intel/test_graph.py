"""Link analysis: capped expansion, shortest paths with filters, analysis, exports, charts."""

import io
from datetime import date

import networkx as nx
import pytest

from app.core.errors import ValidationError
from app.intel import graph, service
from app.intel.models import SavedChart
from app.security.access import NotFound
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


@pytest.fixture
def network(make):
    """company - director - phone - other company - driver - truck (a chain), plus a hub."""
    _, actor = officer(make)
    e = {
        name: entity(actor, name, entity_type=etype)
        for name, etype in [
            ("Alpha Trading", "organisation"),
            ("Arben Gashi", "person"),
            ("+38344000111", "phone"),
            ("Beta Cargo", "organisation"),
            ("Driton Morina", "person"),
            ("Truck 01-123-AB", "vehicle"),
            ("Hub Holding", "organisation"),
        ]
    }
    ids = {k: v.id for k, v in e.items()}
    L = service.add_link
    L(
        ids["Arben Gashi"],
        ids["Alpha Trading"],
        "director_of",
        actor=actor,
        start_date="2020-01-01",
        end_date="2021-01-01",
    )
    L(ids["Arben Gashi"], ids["+38344000111"], "uses_phone", actor=actor)
    L(ids["Beta Cargo"], ids["+38344000111"], "uses_phone", actor=actor)
    L(ids["Driton Morina"], ids["Beta Cargo"], "director_of", actor=actor, start_date="2023-01-01")
    L(ids["Driton Morina"], ids["Truck 01-123-AB"], "drives", actor=actor)
    # a shortcut through the hub, only of type "associate_of"
    L(ids["Alpha Trading"], ids["Hub Holding"], "associate_of", actor=actor)
    L(ids["Hub Holding"], ids["Driton Morina"], "associate_of", actor=actor)
    for i in range(30):
        spoke = entity(actor, f"Spoke {i}", entity_type="person")
        L(spoke.id, ids["Hub Holding"], "associate_of", actor=actor)
    return actor, ids


def test_expand_caps_fan_out_and_pages(network, db):
    actor, ids = network
    first = graph.expand(ids["Hub Holding"], actor=actor, limit=10)
    assert first["total"] == 32 and first["shown"] == 10 and first["more"] == 22
    nodes = [el for el in first["elements"] if "source" not in el["data"]]
    assert len(nodes) == 11
    rest = graph.expand(ids["Hub Holding"], actor=actor, offset=30, limit=10)
    assert rest["shown"] == 32 and rest["more"] == 0
    typed = graph.expand(ids["Arben Gashi"], actor=actor, link_types=["uses_phone"])
    assert typed["total"] == 1
    assert (
        db.session.query(AccessEvent)
        .filter_by(action="view", record_id=str(ids["Hub Holding"]))
        .count()
        == 2
    )


def test_shortest_path_and_filters(network):
    actor, ids = network
    path = graph.shortest_path(ids["Alpha Trading"], ids["Truck 01-123-AB"], actor=actor)
    assert path["found"] and path["length"] == 3  # via the hub
    assert path["path"][1] == f"e{ids['Hub Holding']}"
    no_assoc = graph.shortest_path(
        ids["Alpha Trading"],
        ids["Truck 01-123-AB"],
        actor=actor,
        link_types=["director_of", "uses_phone", "drives"],
    )
    assert no_assoc["length"] == 5
    labels = [el["data"]["label"] for el in no_assoc["elements"] if "source" not in el["data"]]
    assert labels == [
        "Alpha Trading",
        "Arben Gashi",
        "+38344000111",
        "Beta Cargo",
        "Driton Morina",
        "Truck 01-123-AB",
    ]
    # Gashi was director until 2021, Morina from 2023: no path valid throughout 2022
    dated = graph.shortest_path(
        ids["Alpha Trading"],
        ids["Truck 01-123-AB"],
        actor=actor,
        link_types=["director_of", "uses_phone", "drives"],
        date_from=date(2022, 1, 1),
        date_to=date(2022, 12, 31),
    )
    assert dated["found"] is False
    with pytest.raises(ValidationError):
        graph.shortest_path(ids["Alpha Trading"], ids["Alpha Trading"], actor=actor)
    with pytest.raises(ValidationError):
        graph.shortest_path(
            ids["Alpha Trading"], ids["Beta Cargo"], actor=actor, link_types=["teleports"]
        )


def test_paths_never_cross_hidden_entities(make):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    a = entity(owner, "Open A")
    hidden = entity(owner, "Hidden Middle", entity_type="person", handling_code="C")
    b = entity(owner, "Open B")
    service.add_link(a.id, hidden.id, "associate_of", actor=owner)
    service.add_link(hidden.id, b.id, "associate_of", actor=owner)
    assert graph.shortest_path(a.id, b.id, actor=owner)["length"] == 2
    assert graph.shortest_path(a.id, b.id, actor=outsider)["found"] is False
    with pytest.raises(NotFound):
        graph.expand(hidden.id, actor=outsider)
    assert graph.expand(a.id, actor=outsider)["total"] == 0


def test_analysis_finds_the_broker(network):
    actor, ids = network
    result = graph.analyse(list(ids.values()), actor=actor)
    assert result["brokers"][0]["label"] in {"Hub Holding", "Driton Morina"}
    assert result["communities"] >= 1
    assert set(result["nodes"]) == {f"e{i}" for i in ids.values()}


def test_exports_are_justified_and_readable(network, db):
    actor, ids = network
    with pytest.raises(ValidationError) as err:
        graph.export(list(ids.values()), "graphml", actor=actor, justification=" ")
    assert "justification" in err.value.fields
    data, mimetype = graph.export(
        list(ids.values()), "graphml", actor=actor, justification="Gephi analysis for case 12"
    )
    g = nx.read_graphml(io.BytesIO(data))
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 7
    data, _ = graph.export(list(ids.values()), "gexf", actor=actor, justification="again")
    assert nx.read_gexf(io.BytesIO(data)).number_of_nodes() == 7
    rows = db.session.query(AccessEvent).filter_by(action="export").all()
    assert [r.justification for r in rows] == ["Gephi analysis for case 12", "again"]


def test_timeline(network):
    actor, ids = network
    rows = graph.timeline(list(ids.values()), actor=actor)
    assert [r["start"] for r in rows] == ["2020-01-01", "2023-01-01"]


def test_save_and_load_chart_in_a_case(network, make, db):
    from app.cases import service as cases

    actor, ids = network
    case = cases.open_case("seizure", actor=actor, title="Cigarettes in truck")
    chart = graph.save_chart(
        case.id,
        "Network of Beta Cargo",
        list(ids.values()),
        actor=actor,
        positions={f"e{ids['Beta Cargo']}": {"x": 1, "y": 2}, "e999999": {"x": 0, "y": 0}},
    )
    assert chart.case_id == case.id and len(chart.elements["nodes"]) == 7
    assert chart.elements["positions"] == {f"e{ids['Beta Cargo']}": {"x": 1, "y": 2}}
    loaded = graph.load_chart(chart.id, actor=actor)
    assert len([e for e in loaded["elements"] if "source" in e["data"]]) == 7
    assert [c.id for c in graph.charts_for_case(case.id, actor=actor)] == [chart.id]
    with pytest.raises(ValidationError) as err:
        graph.save_chart(999999, "x", list(ids.values()), actor=actor)
    assert "case_id" in err.value.fields
    _, outsider = officer(make, make.unit())
    hidden_case = cases.open_case("seizure", actor=actor, title="Hidden", handling_code="C")
    with pytest.raises(ValidationError):
        graph.save_chart(hidden_case.id, "x", list(ids.values()), actor=outsider)
    hidden_chart = SavedChart(
        case_id=hidden_case.id, title="h", elements={"nodes": list(ids.values())}
    )
    db.session.add(hidden_chart)
    db.session.flush()
    with pytest.raises(NotFound):
        graph.load_chart(hidden_chart.id, actor=outsider)


def test_chart_endpoints(client, login_as, make, db):
    user = login_as("intelligence_officer")
    actor = make.actor(user)
    a = entity(actor, "Chart A")
    b = entity(actor, "Chart B", entity_type="person")
    service.add_link(b.id, a.id, "director_of", actor=actor)
    db.session.commit()
    resp = client.get(f"/intel/graph/expand?entity={a.id}")
    assert resp.status_code == 200 and resp.json["total"] == 1
    resp = client.get(f"/intel/graph/path?from={a.id}&to={b.id}")
    assert resp.json["found"] and resp.json["length"] == 1
    resp = client.get(f"/intel/graph/path?from={a.id}&to={b.id}&date_from=soon")
    assert resp.status_code == 422 and "date_from" in resp.json["error"]["fields"]
    resp = client.post("/intel/graph/analyse", json={"nodes": [f"e{a.id}", b.id]})
    assert resp.status_code == 200 and len(resp.json["nodes"]) == 2
    resp = client.post(
        "/intel/graph/export",
        data={"nodes": f"{a.id},{b.id}", "format": "gexf", "justification": "test"},
    )
    assert resp.status_code == 200 and b"<gexf" in resp.data
    page = client.get(f"/intel/chart?entity={a.id}")
    assert page.status_code == 200 and f'data-start="{a.id}"' in page.get_data(as_text=True)
