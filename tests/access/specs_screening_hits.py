"""Access specs for the screening hits (issue 20): the hits page, a hit with its judgement
form, and the API. The hit is unit A's, code C, with the sentinel in its party's name."""

from tests.access.spec import Route


def build(world):
    from app.extensions import db
    from app.screening.hits import ScreeningHit

    hit = ScreeningHit(
        subject_type="declaration",
        subject_id=987654,
        role="importer",
        party_key="party:matrix",
        party_version="v1",
        party={"name": world.SENTINEL, "kind": "company", "country": None,
               "identifiers": [], "birth_date": None},
        list_id=1,
        list_name="Matrix list",
        list_version="2026-12-01",
        sensitivity="P",
        entry_id="matrix-1",
        entry_caption="Matrix Trading LLC",
        entry_version_key="1",
        score=0.9,
        threshold=0.7,
        reasons=["name tokens 2/2"],
        unit_id=world.unit_a.id,
        handling_code="C",
    )  # fmt: skip
    db.session.add(hit)
    db.session.flush()
    world.screening_hit = hit


def _hit(w):
    return {"hit_id": w.screening_hit.id}


ROUTES = [
    Route("screening_hits.hits", perm="screening.view"),
    Route("screening_hits.hit", perm="screening.view", args=_hit, restricted=True),
    Route(
        "screening_hits.judge",
        perm="screening.judge",
        args=_hit,
        restricted=True,
        body=lambda w: {"verdict": "unsure", "note": "looked at it"},
    ),
    Route("screening_hits_api.api_hits", scope="screening:read"),
    Route("screening_hits_api.api_hit", scope="screening:read", args=_hit, restricted=True),
    Route(
        "screening_hits_api.api_judge",
        scope="screening:write",
        args=_hit,
        restricted=True,
        body=lambda w: {"verdict": "unsure"},
    ),
]
