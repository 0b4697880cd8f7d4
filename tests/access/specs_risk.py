"""Access specs for the risk domain's routes (HTML and API)."""

from tests.access.spec import Route


def _decl_body(number):
    return {
        "number": number,
        "date": "2026-03-02",
        "office": "BCP-N",
        "importer": "IMP1",
        "items": [{"hs_code": "8517620000", "origin": "CN", "value": 100, "mass": 1}],
    }


def build(world):
    from app.risk.assessment import submit_declaration
    from app.risk.models import ChannelRaise
    from app.risk.profiles import create_profile
    from app.security.access import Actor

    actor = Actor.system("access-matrix")
    decl = submit_declaration(
        _decl_body("ACCESS-DECL-1"), actor=actor, unit_id=world.unit_a.id, link_entities=False
    )
    decl.handling_code = "C"
    decl.importer_code = world.SENTINEL
    decl.channel = "green"
    world.declaration = decl
    world.raise_row = ChannelRaise(
        declaration_id=decl.id,
        from_channel="green",
        to_channel="red",
        reason="access matrix",
        requested_by_id=None,
    )
    world.make.db.session.add(world.raise_row)
    world.profile = create_profile(
        {
            "name": "Access profile",
            "risk_area": "test",
            "channel": "red",
            "conditions": {
                "join": "and",
                "conditions": [{"field": "hs_code", "op": "prefix", "value": ["8517"]}],
            },
        },
        actor=actor,
    )
    world.make.db.session.flush()


_PROFILE_FORM = {
    "name": "Matrix profile",
    "risk_area": "test",
    "channel": "red",
    "conditions_json": '{"join": "and", "conditions": [{"field": "origin", '
    '"op": "eq", "value": "CN"}]}',
}

ROUTES = [
    Route("risk.declarations", perm="risk.declaration.view"),
    Route(
        "risk.declaration_detail",
        perm="risk.declaration.view",
        restricted=True,
        args=lambda w: {"declaration_id": w.declaration.id},
    ),
    Route(
        "risk.declaration_control",
        perm="risk.control.record",
        restricted=True,
        args=lambda w: {"declaration_id": w.declaration.id},
        body=lambda w: {"inspected": "y", "compliant": "true"},
    ),
    Route(
        "risk.declaration_raise",
        perm="risk.channel.raise",
        restricted=True,
        args=lambda w: {"declaration_id": w.declaration.id},
        body=lambda w: {"to_channel": "yellow", "reason": "matrix"},
    ),
    Route("risk.raises", perm="risk.channel.approve"),
    Route(
        "risk.raise_decide",
        perm="risk.channel.approve",
        restricted=True,
        args=lambda w: {"raise_id": w.raise_row.id},
        body=lambda w: {"decision": "approve"},
    ),
    Route("risk.import_page", perm="risk.profile.edit"),
    Route("risk.settings_page", perm="risk.profile.view"),
    Route(
        "risk.settings_save",
        perm="risk.profile.activate",
        body=lambda w: {"target_red": "8", "random_red": "1", "ml_channel": "yellow"},
    ),
    Route("risk.profiles_list", perm="risk.profile.view"),
    Route("risk.profile_new", perm="risk.profile.edit", body=lambda w: _PROFILE_FORM),
    Route(
        "risk.profile_edit",
        perm="risk.profile.edit",
        args=lambda w: {"profile_id": w.profile.id},
        body=lambda w: _PROFILE_FORM,
    ),
    Route("risk.profile_preview", perm="risk.profile.edit"),
    Route(
        "risk.profile_detail", perm="risk.profile.view", args=lambda w: {"profile_id": w.profile.id}
    ),
    Route(
        "risk.profile_status",
        perm="risk.profile.edit",
        args=lambda w: {"profile_id": w.profile.id},
        body=lambda w: {"status": "retired"},
    ),
    Route(
        "risk.profile_simulate",
        perm="risk.profile.edit",
        args=lambda w: {"profile_id": w.profile.id},
        body=lambda w: {},
    ),
    Route(
        "risk.profile_version",
        perm="risk.profile.view",
        args=lambda w: {"profile_id": w.profile.id, "version": 1},
    ),
    Route(
        "risk.profile_restore",
        perm="risk.profile.edit",
        args=lambda w: {"profile_id": w.profile.id, "version": 1},
        body=lambda w: {},
    ),
    Route(
        "risk.profile_discard_draft",
        perm="risk.profile.edit",
        args=lambda w: {"profile_id": w.profile.id},
        body=lambda w: {},
    ),
    Route(
        "risk.profile_activate",
        perm="risk.profile.approve",
        args=lambda w: {"profile_id": w.profile.id},
        body=lambda w: {},
    ),
    Route("risk.simulation_page", perm="risk.profile.view"),
    Route("risk.lists", perm="risk.profile.view"),
    Route(
        "risk.list_save",
        perm="risk.profile.edit",
        body=lambda w: {"name": "Matrix list", "kind": "country", "values": "CN, US"},
    ),
    Route("risk.editor_catalog", perm="risk.profile.view"),
    Route("risk.kpis_page", perm="risk.profile.view"),
    Route(
        "risk.export_kpis",
        perm="risk.profile.view",
        body=lambda w: {"justification": "matrix test"},
    ),
    Route("risk_api.submit", scope="declarations:write", body=lambda w: _decl_body("ACCESS-API-1")),
    Route(
        "risk_api.get_declaration",
        scope="declarations:read",
        restricted=True,
        args=lambda w: {"number": w.declaration.number},
    ),
    Route(
        "risk_api.control_result",
        scope="control-results:write",
        restricted=True,
        args=lambda w: {"number": w.declaration.number},
        body=lambda w: {"inspected": True, "compliant": True},
    ),
]
