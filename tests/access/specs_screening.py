"""Access specs for the screening lists' administrator pages."""

from tests.access.spec import Route


def build(world):
    from tests.screening.factories import load_ftm

    version = load_ftm(
        [{"id": "matrix-1", "schema": "Company", "properties": {"name": ["Matrix Trading LLC"]}}],
        name="Matrix list",
    )
    world.screening_list_id = version.list_id
    world.screening_version_id = version.id


ROUTES = [
    Route("screening.index", perm="admin.reference"),
    Route(
        "screening.list_page",
        perm="admin.reference",
        args=lambda w: {"list_id": w.screening_list_id},
    ),
    Route("screening.load", perm="admin.reference", body=lambda w: {}),
    Route(
        "screening.settings",
        perm="admin.reference",
        args=lambda w: {"list_id": w.screening_list_id},
        body=lambda w: {"threshold": "0.8", "is_active": "y"},
    ),
    Route(
        "screening.version_page",
        perm="admin.reference",
        args=lambda w: {"version_id": w.screening_version_id},
    ),
]
