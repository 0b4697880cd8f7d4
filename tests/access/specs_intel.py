from tests.access.spec import Route


def build(world):
    from app.extensions import db
    from app.intel import reports, resolution, service
    from app.intel.models import SavedChart
    from app.security.access import Actor

    actor = Actor.for_user(world.users["intelligence_officer"])
    world.entity = service.create_entity(
        "organisation",
        f"Restricted Trading {world.SENTINEL}",
        actor=actor,
        identifiers={"eori": "DE998877665544"},
        handling_code="C",
    )
    world.entity_p = service.create_entity("person", "Open Person", actor=actor)
    world.link = service.add_link(
        world.entity_p.id, world.entity.id, "director_of", actor=actor, handling_code="C"
    )
    a = service.create_entity(
        "person",
        f"Merge Survivor {world.SENTINEL}",
        actor=actor,
        handling_code="C",
        identifiers={"passport": "X1234567"},
    )
    b = service.create_entity(
        "person",
        "Survivor Merge",
        actor=actor,
        handling_code="C",
        identifiers={"passport": "X1234567"},
        duplicate_reason="the duplicate the merge below folds in",
    )
    world.entity_dup = b
    world.merge = resolution.merge_entities(a.id, b.id, actor=actor)
    world.report = reports.create_report(
        f"Report {world.SENTINEL}",
        f"Body {world.SENTINEL}",
        "1",
        "A",
        actor=actor,
        handling_code="C",
        sanitised_body="cleared text",
        entity_ids=[world.entity.id],
    )
    case = getattr(world, "case", None)
    world.chart = SavedChart(
        case_id=case.id if case else 0,
        title="Matrix chart",
        elements={"nodes": [world.entity.id], "links": []},
    )
    db.session.add(world.chart)
    db.session.flush()


def _entity(w):
    return {"entity_id": w.entity.id}


def _report(w):
    return {"report_id": w.report.id}


ROUTES = [
    Route("intel.entity_lookup", perm="entity.view"),
    Route("intel.record_lookup", perm="entity.view"),
    Route("intel.entities", perm="entity.view"),
    Route(
        "intel.entity_new",
        perm="entity.edit",
        body=lambda w: {"entity_type": "person", "name": "Matrix New", "handling_code": "P"},
    ),
    Route("intel.entity_detail", perm="entity.view", args=_entity, restricted=True),
    Route(
        "intel.entity_edit",
        perm="entity.edit",
        args=_entity,
        restricted=True,
        body=lambda w: {"name": f"Restricted Trading {w.SENTINEL}", "handling_code": "C"},
    ),
    Route(
        "intel.link_add",
        perm="entity.edit",
        args=_entity,
        restricted=True,
        body=lambda w: {
            "target_id": w.entity_p.id,
            "link_type": "owns",
            "direction": "out",
            "handling_code": "P",
        },
    ),
    Route(
        "intel.entity_watch", perm="alert.manage", args=_entity, restricted=True, body=lambda w: {}
    ),
    Route(
        "intel.link_edit",
        perm="entity.edit",
        args=lambda w: {"link_id": w.link.id},
        restricted=True,
        body=lambda w: {"link_type": "owns", "reason": "matrix correction", "action": "save"},
    ),
    Route(
        "intel.merge_undo",
        perm="entity.merge",
        restricted=True,
        args=lambda w: {"merge_id": w.merge.id},
    ),
    Route("intel.entity_candidates_refresh", perm="entity.merge", args=_entity, restricted=True),
    Route("intel.import_csv", perm="entity.edit"),
    Route("intel.reports_list", perm="intel.view"),
    Route(
        "intel.report_new",
        perm="intel.edit",
        body=lambda w: {
            "title": "Matrix report",
            "body": "text",
            "source_grade": "2",
            "intel_grade": "C",
            "handling_code": "C",
        },
    ),
    Route("intel.report_detail", perm="intel.view", args=_report, restricted=True),
    Route(
        "intel.report_edit",
        perm="intel.edit",
        args=_report,
        restricted=True,
        body=lambda w: {
            "title": "Matrix edit",
            "body": "Edited body",
            "source_grade": "2",
            "intel_grade": "B",
            "reason": "matrix correction",
        },
    ),
    Route(
        "intel.report_disseminate",
        perm="intel.disseminate",
        args=_report,
        restricted=True,
        body=lambda w: {
            "recipient": "Border Police",
            "purpose": "joint operation",
            "version": "sanitised",
        },
    ),
    Route("intel.review_queue", perm="intel.view"),
    Route(
        "intel.report_review",
        perm="intel.edit",
        args=_report,
        restricted=True,
        body=lambda w: {"outcome": "retain", "next_review": "2099-01-01"},
    ),
    Route("intel.chart", perm="entity.view"),
    Route(
        "intel.graph_expand",
        perm="entity.view",
        restricted=True,
        args=lambda w: {"entity": w.entity.id},
    ),
    Route(
        "intel.graph_path",
        perm="entity.view",
        restricted=True,
        args=lambda w: {"from": w.entity.id, "to": w.entity_p.id},
    ),
    Route(
        "intel.graph_analyse",
        perm="entity.view",
        body=lambda w: {"nodes": f"{w.entity.id},{w.entity_p.id}"},
    ),
    Route(
        "intel.graph_timeline",
        perm="entity.view",
        body=lambda w: {"nodes": f"{w.entity.id},{w.entity_p.id}"},
    ),
    Route(
        "intel.graph_export",
        perm="entity.view",
        body=lambda w: {
            "nodes": f"{w.entity_p.id}",
            "format": "graphml",
            "justification": "access-matrix test",
        },
    ),
    Route(
        "intel.graph_save",
        perm="case.edit",
        body=lambda w: {"case_id": "0", "title": "t", "nodes": f"{w.entity_p.id}"},
    ),
    Route(
        "intel.chart_load",
        perm="entity.view",
        restricted=True,
        args=lambda w: {"chart_id": w.chart.id},
    ),
    Route("intel.resolution_queue", perm="entity.merge"),
    Route(
        "intel.resolution_decide",
        perm="entity.merge",
        body=lambda w: {
            "entity_a": w.entity_p.id,
            "entity_b": w.entity_p.id,
            "judgement": "unsure",
        },
    ),
    # JSON API
    Route("intel_api.entities_list", scope="entities:read"),
    Route(
        "intel_api.entities_create",
        scope="entities:write",
        body=lambda w: {"type": "person", "name": "Api Person"},
    ),
    Route(
        "intel_api.entity_get",
        scope="entities:read",
        restricted=True,
        args=lambda w: {"entity_id": w.entity.id},
    ),
    Route(
        "intel_api.links_create",
        scope="entities:write",
        body=lambda w: {
            "source_id": w.entity_p.id,
            "target_id": w.entity_p.id,
            "link_type": "owns",
        },
    ),
    Route("intel_api.reports_list", scope="entities:read"),
    Route(
        "intel_api.reports_create",
        scope="entities:write",
        body=lambda w: {
            "title": "Api report",
            "body": "x",
            "source_grade": "1",
            "intel_grade": "A",
        },
    ),
    Route(
        "intel_api.report_get",
        scope="entities:read",
        restricted=True,
        args=lambda w: {"report_id": w.report.id},
    ),
    Route(
        "intel_api.link_update",
        scope="entities:write",
        restricted=True,
        args=lambda w: {"link_id": w.link.id},
        body=lambda w: {"reason": "matrix correction", "grade": "1A"},
    ),
    Route(
        "intel_api.report_update",
        scope="entities:write",
        restricted=True,
        args=lambda w: {"report_id": w.report.id},
        body=lambda w: {"reason": "matrix edit", "title": "Matrix API edit"},
    ),
]
