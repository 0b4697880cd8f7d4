"""Exchange (FtM and STIX): the exports of the intelligence domain's records (world.entity,
world.report are built by specs_intel)."""

from tests.access.spec import Route

ROUTES = [
    Route(
        "exchange.entity_ftm",
        perm="entity.view",
        restricted=True,
        args=lambda w: {"entity_id": w.entity.id},
        body=lambda w: {"justification": "access-matrix test"},
    ),
    Route(
        "exchange.chart_ftm",
        perm="entity.view",
        body=lambda w: {"nodes": f"{w.entity_p.id}", "justification": "access-matrix test"},
    ),
    Route(
        "exchange_api.ftm_export_api",
        scope="entities:read",
        restricted=True,
        body=lambda w: {"entity_id": w.entity.id, "justification": "access-matrix test"},
    ),
    Route(
        "exchange.report_stix",
        perm="intel.view",
        restricted=True,
        args=lambda w: {"report_id": w.report.id},
        body=lambda w: {"justification": "access-matrix test"},
    ),
    Route(
        "exchange_api.report_stix_api",
        scope="entities:read",
        restricted=True,
        args=lambda w: {"report_id": w.report.id},
        body=lambda w: {"justification": "access-matrix test"},
    ),
]
