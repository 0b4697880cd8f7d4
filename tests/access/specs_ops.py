from tests.access.spec import Route


def build(world):
    from app.core.time import now_utc
    from app.ops.models import ReviewItem

    world.review_item = ReviewItem(
        record_type="access_event", record_id="seq<=1", due_dt=now_utc(), summary="matrix"
    )
    world.make.db.session.add(world.review_item)
    world.make.db.session.flush()


ROUTES = [
    Route("ops.retention_page", perm="admin.reference"),
    Route(
        "ops.decide",
        perm="admin.reference",
        args=lambda w: {"item_id": w.review_item.id},
        body=lambda w: {"decision": "keep", "next_review": "2999-01-01", "reason": "matrix"},
    ),
]
