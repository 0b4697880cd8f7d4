from tests.access.spec import Route


def build(world):
    world.admin_target = world.make.user(roles=["enforcement_officer"], unit=world.unit_a)
    world.client_row, _ = world.make.api_client(["declarations:write"], unit=world.unit_a)
    # A share of unit A's code-C report with a third unit (never the outsider's unit B).
    from app.extensions import db
    from app.security.access import share_record
    from app.security.models import RecordShare

    world.unit_c = world.make.unit(code="UNIT-C", name="Third unit")
    share_record(world.report, unit_ids=[world.unit_c.id], reason="matrix share")
    db.session.flush()
    world.share = db.session.query(RecordShare).one()


def _share_body(w):
    return {"share-unit": str(w.unit_c.id), "share-reason": "matrix share", "share-ends": _ends()}


def _ends():
    from datetime import date, timedelta

    return (date.today() + timedelta(days=30)).isoformat()


ROUTES = [
    Route("security.login", public=True),
    Route("security.logout"),
    Route("security.admin_users", perm="admin.users"),
    Route("security.admin_user_new", perm="admin.users"),
    Route(
        "security.admin_user_edit",
        perm="admin.users",
        args=lambda w: {"user_id": w.admin_target.id},
    ),
    Route(
        "security.admin_user_unlock",
        perm="admin.users",
        args=lambda w: {"user_id": w.admin_target.id},
    ),
    Route("security.admin_unit_new", perm="admin.users"),
    Route("security.admin_clients", perm="admin.clients"),
    Route(
        "security.admin_client_revoke",
        perm="admin.clients",
        args=lambda w: {"client_id": w.client_row.id},
    ),
    Route("security.trail", perm="trail.view"),
    Route(
        "security.trail_export",
        perm="trail.export",
        body=lambda w: {"justification": "access-matrix test"},
    ),
    Route(
        "shares.share_create",
        perm="record.share",
        restricted=True,
        args=lambda w: {"record_type": "report", "record_id": w.report.id},
        body=_share_body,
    ),
    Route(
        "shares.share_revoke",
        perm="record.share",
        restricted=True,
        args=lambda w: {"share_id": w.share.id},
    ),
    Route(
        "shares_api.shares_list",
        scope="shares:read",
        restricted=True,
        args=lambda w: {"record_type": "report", "record_id": w.report.id},
    ),
    Route(
        "shares_api.shares_create",
        scope="shares:write",
        restricted=True,
        body=lambda w: {
            "record_type": "report",
            "record_id": w.report.id,
            "unit_id": w.unit_c.id,
            "reason": "access-matrix share",
            "expires_dt": _ends(),
        },
    ),
    Route(
        "shares_api.share_get",
        scope="shares:read",
        restricted=True,
        args=lambda w: {"share_id": w.share.id},
    ),
    Route(
        "shares_api.share_revoke",
        scope="shares:write",
        restricted=True,
        args=lambda w: {"share_id": w.share.id},
    ),
]
