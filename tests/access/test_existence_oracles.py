"""Forms that name a record by reference answer alike for "no such record" and "not yours to
see" (issue 15, item 9): merging a case, attaching an alert to a case, importing seizures."""

import pytest
from sqlalchemy import func, select

from app.cases import importer
from app.cases.models import Case
from app.core.errors import ValidationError
from tests.cases.factories import officer, seizure
from tests.cases.test_import import CEN

risk_assessment = pytest.importorskip("app.risk.assessment")


@pytest.fixture
def hidden(make, db):
    """A code-C seizure case of unit A, and its reference and id."""
    _, owner = officer(make, make.unit(code="ORA"))
    case = seizure(owner, title="Covert case", handling_code="C")
    db.session.commit()
    return case


def _flashes(client):
    with client.session_transaction() as sess:
        return list(sess.pop("_flashes", []))


def test_merge_answers_alike_for_unknown_and_invisible(client, make, login_as, db, hidden):
    unit_b = make.unit(code="ORB")
    user = login_as("enforcement_officer", unit=unit_b)
    own = seizure(make.actor(user), title="Own case")
    db.session.commit()
    unknown = f"{hidden.reference[:-5]}99999"
    answers = []
    for ref in (unknown, hidden.reference):
        resp = client.post(
            f"/cases/{own.id}/merge", data={"duplicate": ref, "confirm": "y", "note": ""}
        )
        flashes = [(cat, msg.replace(ref, "<ref>")) for cat, msg in _flashes(client)]
        answers.append((resp.status_code, resp.headers.get("Location"), flashes))
    assert answers[0] == answers[1], answers
    assert answers[0][0] == 302 and answers[0][2], answers
    db.session.rollback()
    assert db.session.get(Case, hidden.id).merged_into_id is None


def test_attach_alert_answers_alike_for_unknown_and_invisible(make, db, hidden):
    from app.alerts import cases as alert_cases
    from app.alerts.models import Alert
    from app.security.access import Actor
    from tests.risk import factories as rf

    unit = make.unit(code="ORC")
    sup = make.user(roles=["supervisor"], unit=unit)
    rf.no_random()
    rf.profile(name="Sensitive", is_sensitive=True, recipients={"users": [sup.id]})
    client, _ = make.api_client(["declarations:write"], unit=unit)
    risk_assessment.submit_declaration(
        rf.body(), actor=Actor.for_client(client, {"risk.declaration.view"})
    )
    db.session.commit()
    alert = db.session.scalars(select(Alert)).one()
    actor = make.actor(sup)
    unknown_ref = f"{hidden.reference[:-5]}99999"
    unknown_id = str(hidden.id + 1000)
    messages = []
    for ref in (unknown_ref, hidden.reference, unknown_id, str(hidden.id)):
        with pytest.raises(ValidationError) as err:
            alert_cases.attach_to_case(actor, alert.id, ref)
        db.session.rollback()
        messages.append({k: v.replace(repr(ref), "<ref>") for k, v in err.value.fields.items()})
    assert all(m == messages[0] for m in messages), messages
    assert db.session.get(Alert, alert.id).case_id is None


def test_import_does_not_report_another_units_seizures_as_imported(make, db):
    """Unit A imported CEN-1 and CEN-2; unit B importing the same file hears nothing of it:
    its dry run is the same as in an empty database, and the import creates unit B's own."""
    _, actor_a = officer(make, make.unit(code="ORD"))
    _, actor_b = officer(make, make.unit(code="ORE"))
    data = CEN.encode()
    mapping = importer.suggest_mapping(importer.read_header(data))
    fresh = importer.run_import(data, mapping, actor=actor_b, dry_run=True)
    assert importer.run_import(data, mapping, actor=actor_a, dry_run=False).ok
    after = importer.run_import(data, mapping, actor=actor_b, dry_run=True)
    assert (after.duplicates, after.errors, after.cases) == (
        fresh.duplicates,
        fresh.errors,
        fresh.cases,
    )
    assert importer.run_import(data, mapping, actor=actor_b, dry_run=False).ok
    # Within one unit the duplicate check still holds.
    again = importer.run_import(data, mapping, actor=actor_b, dry_run=True)
    assert [why for _row, _ref, why in again.duplicates] == ["already imported"] * 2
    assert db.session.scalar(select(func.count()).select_from(Case)) == 4
