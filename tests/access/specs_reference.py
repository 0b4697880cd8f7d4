"""Access specs for the reference lists' administrator pages."""

from tests.access.spec import Route


def build(world):
    from app.reference.service import lookup

    world.reference_entry_id = lookup("office", "BCP-N").id


_ENTRY = {"code": "MATRIX-1", "label": "Matrix office", "kind": "inland", "country": "XK"}

ROUTES = [
    Route("reference.index", perm="admin.reference"),
    Route("reference.list_page", perm="admin.reference", args=lambda w: {"list_name": "office"}),
    Route(
        "reference.add",
        perm="admin.reference",
        args=lambda w: {"list_name": "office"},
        body=lambda w: dict(_ENTRY),
    ),
    Route(
        "reference.edit",
        perm="admin.reference",
        args=lambda w: {"entry_id": w.reference_entry_id},
        body=lambda w: {"label": "Northern office", "kind": "border", "country": "XK"},
    ),
    Route(
        "reference.set_active",
        perm="admin.reference",
        args=lambda w: {"entry_id": w.reference_entry_id},
        body=lambda w: {"active": "1"},
    ),
    Route(
        "reference.load",
        perm="admin.reference",
        args=lambda w: {"list_name": "office"},
        body=lambda w: {},
    ),
]
