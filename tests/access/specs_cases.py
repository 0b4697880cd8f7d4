import io

from tests.access.spec import Route

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def build(world):
    from app.cases import evidence, parties, service
    from app.intel import service as intel
    from app.security.access import Actor

    actor = Actor.for_user(world.users["supervisor"])
    world.case = service.open_case(
        "seizure",
        actor=actor,
        title=f"Heroin in fuel tank {world.SENTINEL}",
        handling_code="C",
        place="BCP Test",
        items=[
            {
                "commodity_area": "drugs",
                "description": "Heroin",
                "quantity": "2",
                "quantity_unit": "kg",
                "value": "40000",
            }
        ],
    )
    world.case_dup = service.open_case(
        "seizure", actor=actor, title="Same heroin seizure", handling_code="C"
    )
    world.offence = service.open_case(
        "offence", actor=actor, handling_code="C", title=f"Undervaluation {world.SENTINEL}"
    )
    world.audit_case = service.open_case(
        "audit", actor=actor, handling_code="C", title=f"Audit {world.SENTINEL}"
    )
    world.case_task = world.case.tasks[0]
    world.case_entity = intel.create_entity(
        "person", "Matrix Suspect", actor=actor, handling_code="C"
    )
    world.case_party = parties.add_party(
        world.case.id, actor=actor, role="driver", entity_id=world.case_entity.id
    )
    world.case_evidence = evidence.store_evidence(
        world.case.id, io.BytesIO(PNG), "photo.png", actor=actor
    )


def _case(w):
    return {"case_id": w.case.id}


ROUTES = [
    Route("cases.index", perm="case.view"),
    Route("cases.seizures", perm="case.view"),
    Route("cases.offences", perm="case.view"),
    Route("cases.audits", perm="case.view"),
    Route("cases.seizure_map", perm="case.view"),
    Route("cases.export", perm="case.export", body=lambda w: {"justification": "matrix test"}),
    Route("cases.new_seizure", perm="case.create"),
    Route("cases.new_case", perm="case.create", args=lambda w: {"kind": "offence"}),
    Route("cases.detail", perm="case.view", restricted=True, args=_case),
    Route("cases.edit", perm="case.edit", restricted=True, args=_case),
    Route(
        "cases.status",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"status": "investigation"},
    ),
    Route(
        "cases.assign",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"assignee_id": ""},
    ),
    Route(
        "cases.add_journal",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"text": "matrix note"},
    ),
    Route(
        "cases.add_task",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"title": "matrix task"},
    ),
    Route(
        "cases.task_status",
        perm="case.edit",
        restricted=True,
        args=lambda w: {"case_id": w.case.id, "task_id": w.case_task.id},
        body=lambda w: {"status": "done"},
    ),
    Route(
        "cases.add_item",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"item-commodity_area": "drugs", "item-description": "More heroin"},
    ),
    Route(
        "cases.add_party",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"party-role": "suspect", "party-entity_id": str(w.case_entity.id)},
    ),
    Route(
        "cases.remove_party",
        perm="case.edit",
        restricted=True,
        args=lambda w: {"case_id": w.case.id, "party_id": w.case_party.id},
    ),
    Route("cases.upload_evidence", perm="case.edit", restricted=True, args=_case),
    Route(
        "cases.download_evidence",
        perm="case.view",
        restricted=True,
        args=lambda w: {"case_id": w.case.id, "evidence_id": w.case_evidence.id},
    ),
    Route(
        "cases.add_link",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"target_type": "declaration", "target_id": "DECL-1"},
    ),
    Route(
        "cases.merge",
        perm="case.edit",
        restricted=True,
        args=_case,
        body=lambda w: {"duplicate": w.case_dup.reference, "confirm": "y"},
    ),
    Route(
        "cases.decide",
        perm="case.decide",
        restricted=True,
        args=lambda w: {"case_id": w.offence.id},
        body=lambda w: {
            "evaded_duties": "1200",
            "legal_provision": "Art. 273",
            "decision_text": "Matrix decision",
            "penalty": "500",
        },
    ),
    Route(
        "cases.correct_decision",
        perm="case.decision.correct",
        restricted=True,
        args=lambda w: {"case_id": w.offence.id},
        body=lambda w: {
            "reason": "Matrix correction",
            "evaded_duties": "1300",
            "legal_provision": "Art. 273",
            "decision_text": "Matrix decision",
            "penalty": "500",
        },
    ),
    Route(
        "cases.case_file_pdf",
        perm="case.view",
        restricted=True,
        args=_case,
        body=lambda w: {"file-justification": "matrix print"},
    ),
    Route(
        "cases.referral_pdf",
        perm="case.view",
        restricted=True,
        args=lambda w: {"case_id": w.offence.id},
        body=lambda w: {"referral-justification": "matrix print"},
    ),
    Route(
        "cases.checklist",
        perm="case.edit",
        restricted=True,
        args=lambda w: {"case_id": w.audit_case.id},
        body=lambda w: {"done": "0"},
    ),
    Route("cases.statistics", perm="case.stats"),
    Route(
        "cases.export_statistics",
        perm="case.stats",
        body=lambda w: {"justification": "matrix test"},
    ),
    Route("cases.import_upload", perm="case.create"),
    Route("cases.import_run", perm="case.create"),
    Route("cases_api.list_cases", scope="cases:read"),
    Route(
        "cases_api.create_case",
        scope="cases:write",
        body=lambda w: {"kind": "seizure", "title": "From the API"},
    ),
    Route("cases_api.get_case", scope="cases:read", restricted=True, args=_case),
    Route(
        "cases_api.update_case",
        scope="cases:write",
        restricted=True,
        args=_case,
        body=lambda w: {"priority": 3},
    ),
    Route(
        "cases_api.add_items",
        scope="cases:write",
        restricted=True,
        args=_case,
        body=lambda w: {"items": [{"commodity_area": "drugs", "description": "API item"}]},
    ),
    Route(
        "cases_api.add_party",
        scope="cases:write",
        restricted=True,
        args=_case,
        body=lambda w: {"role": "suspect", "entity_id": w.case_entity.id},
    ),
    Route(
        "cases_api.add_journal",
        scope="cases:write",
        restricted=True,
        args=_case,
        body=lambda w: {"text": "API note"},
    ),
]
