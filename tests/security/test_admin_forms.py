"""The administration forms take the one form path (issue 21): a refused unit or user is said
at its field (aria-invalid), nothing half-written stays, and the page answers as before."""

from sqlalchemy import func, select

from app.security.models import Unit, User


def test_a_taken_unit_code_is_refused_at_the_code_field(client, login_as, make, db):
    make.unit(code="BX1")
    db.session.commit()
    login_as("administrator")
    resp = client.post("/admin/units/new", data={"code": "bx1", "name": "Again", "kind": "border"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<p class="error" id="code-error-1">unit BX1 already exists</p>' in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "BX1")) == 1


def test_a_taken_username_is_refused_at_its_field_and_nothing_is_written(
    client, login_as, make, db
):
    unit = make.unit()
    make.user(username="taken.name", unit=unit)
    db.session.commit()
    login_as("administrator")
    before = db.session.scalar(select(func.count()).select_from(User))
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "taken.name",
            "full_name": "Someone Else",
            "unit_id": str(unit.id),
            "supervisor_id": "0",
            "roles": ["risk_analyst"],
            "password": "a-long-enough-password",
        },
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="username-error-1"' in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == before
