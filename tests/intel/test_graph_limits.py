"""A chart analysis is bounded, and it computes without holding SQLite's write lock (issue
16: 2,799 entities took 18 s and every other user's writes waited)."""

from datetime import timedelta

import networkx as nx
from sqlalchemy import select

from app.core.time import as_utc, now_utc
from app.extensions import db as _db
from app.intel import graph, service
from app.security.models import UserSession
from tests.intel.factories import entity
from tests.transactions import other_write, production_app


def _chart(make, n_entities, links):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    ids = [entity(actor, f"Company {n}").id for n in range(n_entities)]
    for a, b in links:
        service.add_link(ids[a], ids[b], "associate_of", actor=actor)
    return user, ids


def test_more_entities_than_the_limit_are_refused_naming_both(app, client, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_GRAPH_ANALYSE_MAX_NODES", 3)
    user, ids = _chart(make, 4, [(0, 1), (1, 2), (2, 3)])
    make.sign_in(client, user)
    resp = client.post("/intel/graph/analyse", json={"nodes": ids})
    assert resp.status_code == 422
    message = resp.json["error"]["fields"]["nodes"]
    assert "4 entities sent" in message and "at most 3" in message
    resp = client.post("/intel/graph/analyse", json={"nodes": ids[:3]})
    assert resp.status_code == 200 and len(resp.json["nodes"]) == 3


def test_more_links_than_the_limit_are_refused_naming_both(app, client, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_GRAPH_ANALYSE_MAX_LINKS", 2)
    user, ids = _chart(make, 4, [(0, 1), (1, 2), (2, 3)])
    make.sign_in(client, user)
    resp = client.post("/intel/graph/analyse", json={"nodes": ids})
    assert resp.status_code == 422
    message = resp.json["error"]["fields"]["nodes"]
    assert "3 links" in message and "at most 2" in message
    assert client.post("/intel/graph/analyse", json={"nodes": ids[:3]}).status_code == 200


def test_the_defaults_are_configured(app):
    assert app.config["TOLLGATE_GRAPH_ANALYSE_MAX_NODES"] == graph.MAX_ANALYSE_NODES
    assert app.config["TOLLGATE_GRAPH_ANALYSE_MAX_LINKS"] == graph.MAX_ANALYSE_LINKS


def test_the_computation_runs_without_the_write_lock(app, make, db, monkeypatch):
    """The request's own write (its session's last-seen time, due once a minute) is committed
    before the computation: another user can write while it computes."""
    user, ids = _chart(make, 3, [(0, 1), (1, 2)])
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    seen = {}
    exact = nx.betweenness_centrality

    def observed(*args, **kwargs):
        seen["other user"] = other_write(
            url, "UPDATE unit SET name = :n WHERE id = :i", n="meanwhile", i=user.unit_id
        )
        return exact(*args, **kwargs)

    monkeypatch.setattr(graph.nx, "betweenness_centrality", observed)
    with production_app(app) as prod:
        client = prod.test_client()
        make.sign_in(client, user)
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
        row.last_seen_dt = now_utc() - timedelta(minutes=5)  # the request will write it
        db.session.commit()
        resp = client.post("/intel/graph/analyse", json={"nodes": ids})
        with prod.app_context():
            _db.session.remove()
    assert resp.status_code == 200, resp.get_json()
    assert seen["other user"] == "written"
    db.session.expire_all()
    touched = as_utc(db.session.get(UserSession, row.id).last_seen_dt)
    assert touched > now_utc() - timedelta(minutes=1)
