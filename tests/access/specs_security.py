from tests.access.spec import Route


def build(world):
    world.admin_target = world.make.user(roles=["enforcement_officer"], unit=world.unit_a)
    world.client_row, _ = world.make.api_client(["declarations:write"], unit=world.unit_a)


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
]
