"""Seam found by the sentinel sweep: a case merged into another unit's code-C case named
its survivor (reference and link) to everyone who opened the duplicate, on its page, in its
journal and through the API."""

from app.cases import merging
from app.cases import service as cases
from app.security.access import Actor


def _merged(make, db):
    unit_a, unit_b = make.unit(code="MGA"), make.unit(code="MGB")
    sup_a = make.user(roles=["supervisor"], unit=unit_a)
    sup_b = make.user(roles=["supervisor"], unit=unit_b)
    target = cases.open_case(
        "seizure", actor=Actor.for_user(sup_a), title="Secret target", handling_code="C"
    )
    duplicate = cases.open_case("seizure", actor=Actor.for_user(sup_b), title="B's seizure")
    merging.merge_cases(target.id, duplicate.id, actor=Actor.for_user(sup_a))
    db.session.commit()
    return target, duplicate, sup_a, sup_b


def test_the_duplicate_names_its_survivor_only_to_who_may_open_it(app, make, db):
    target, duplicate, sup_a, sup_b = _merged(make, db)

    other = app.test_client()
    make.sign_in(other, sup_b)
    page = other.get(f"/cases/{duplicate.id}").get_data(as_text=True)
    assert target.reference not in page
    assert f'/cases/{target.id}"' not in page
    assert "merged into a restricted record of MGA" in page

    owner = app.test_client()
    make.sign_in(owner, sup_a)
    page = owner.get(f"/cases/{duplicate.id}").get_data(as_text=True)
    assert target.reference in page and f"/cases/{target.id}" in page


def test_the_duplicates_journal_and_api_name_no_case(app, make, db):
    target, duplicate, _, _ = _merged(make, db)
    _, token = make.api_client(["cases:read"], unit=duplicate.unit)
    resp = app.test_client().get(
        f"/api/v1/cases/{duplicate.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 200
    assert target.reference not in resp.get_data(as_text=True)
    assert "Merged into another case as a duplicate." in [j.text for j in duplicate.journal]
