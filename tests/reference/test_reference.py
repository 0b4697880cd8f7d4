"""Reference lists: shipped sets, the administrator's changes (kept and trailed), the pages,
the CLI and the look-up API other domains use."""

import io

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.reference import service as reference
from app.reference.models import ReferenceChange, ReferenceEntry
from app.security.trail import AccessEvent


def test_shipped_lists_are_seeded_and_looked_up(db):
    assert reference.lookup("country", "DE").label == "Germany"
    assert reference.lookup("country", "XX") is None
    assert reference.lookup("currency", "EUR").label == "Euro"
    assert reference.lookup("transport_mode", "3").label == "Road transport"
    assert reference.lookup("transport_mode", "teleport") is None
    office = reference.lookup("office", "BCP-N")
    assert office.kind == "border" and office.country == "XK"
    assert (office.latitude, office.longitude) == (43.1497, 20.7925)
    kinds = {(p.list_name, p.code) for p in reference.places()}
    assert ("crossing", "BCP-MER") in kinds and ("office", "AIR-C") in kinds
    # the demo's places carry coordinates (the KCS offices are codes only)
    assert all(p.latitude is not None for p in reference.places() if p.country == "XK")
    assert reference.ensure("standard", "demo", "kcs") == 0  # idempotent


def test_unknown_list_is_named(db):
    with pytest.raises(ValidationError) as exc:
        reference.lookup("planets", "X")
    assert exc.value.fields == {"list": "no reference list 'planets'"}


def test_add_edit_deactivate_are_kept_and_trailed(db, make):
    admin = make.actor(make.user(roles=["administrator"]))
    row = reference.add_entry(
        "crossing",
        {
            "code": "BCP-NEW",
            "label": "BCP New",
            "kind": "rail",
            "latitude": "42.5",
            "longitude": "21.1",
            "country": "xk",
        },
        actor=admin,
    )
    reference.update_entry(
        row.id,
        {"label": "BCP New (rail)", "kind": "rail", "latitude": "42.5", "longitude": "21.1"},
        actor=admin,
    )
    reference.set_active(row.id, False, actor=admin)
    entry = reference.lookup("crossing", "BCP-NEW")
    assert entry.label == "BCP New (rail)" and entry.is_active is False
    assert entry.country is None  # the edit cleared it: exactly what was sent
    assert "BCP-NEW" not in {e.code for e in reference.entries("crossing")}
    actions = db.session.scalars(select(ReferenceChange.action).order_by(ReferenceChange.id)).all()
    assert actions == ["create", "update", "deactivate"]
    change = db.session.scalars(select(ReferenceChange).order_by(ReferenceChange.id)).all()[1]
    assert change.before["label"] == "BCP New" and change.after["label"] == "BCP New (rail)"
    assert change.changed_by_id == admin.user_id
    trail = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type == "reference_entry")
    ).all()
    assert [t.action for t in trail] == ["create", "update", "update"]


@pytest.mark.parametrize(
    ("list_name", "data", "field"),
    [
        ("country", {"code": "xx1", "label": "X"}, "code"),
        ("office", {"code": "O1", "label": "O", "latitude": "91", "longitude": "0"}, "latitude"),
        ("office", {"code": "O1", "label": "O", "latitude": "1e308", "longitude": "0"}, "latitude"),
        ("office", {"code": "O1", "label": "O", "latitude": "10"}, "longitude"),
        ("office", {"code": "O1", "label": "O", "kind": "castle"}, "kind"),
        ("tax_type", {"code": "T1", "label": "T", "max_rate": "nan"}, "max_rate"),
        ("procedure", {"code": "P1", "label": ""}, "label"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(db, make, list_name, data, field):
    admin = make.actor(make.user(roles=["administrator"]))
    with pytest.raises(ValidationError) as exc:
        reference.add_entry(list_name, data, actor=admin)
    assert field in exc.value.fields


def test_only_administrators_change_lists(db, make):
    from app.security.access import AccessDenied

    analyst = make.actor(make.user(roles=["risk_analyst"]))
    with pytest.raises(AccessDenied):
        reference.add_entry("procedure", {"code": "9999", "label": "x"}, actor=analyst)


def test_pages_add_edit_deactivate_and_load(client, login_as, db):
    login_as("administrator")
    page = client.get("/admin/reference/")
    assert page.status_code == 200 and b"Border crossing points" in page.data
    resp = client.post(
        "/admin/reference/crossing/add",
        data={
            "code": "BCP-T",
            "label": "BCP Test",
            "kind": "road",
            "country": "XK",
            "latitude": "42.1",
            "longitude": "20.9",
        },
    )
    assert resp.status_code == 302
    bad = client.post(
        "/admin/reference/crossing/add",
        data={"code": "BCP-U", "label": "U", "latitude": "200", "longitude": "0"},
    )
    assert bad.status_code == 422 and b"is not a number from -90 to 90" in bad.data
    entry = reference.lookup("crossing", "BCP-T")
    assert (
        client.post(f"/admin/reference/entry/{entry.id}/active", data={"active": "0"}).status_code
        == 302
    )
    db.session.rollback()
    assert reference.lookup("crossing", "BCP-T").is_active is False
    csv_text = "code,label,max_rate\nHIGH,High tariff,800\nLOW,Low tariff,\n"
    resp = client.post(
        "/admin/reference/tax_type/load",
        data={"file": (io.BytesIO(csv_text.encode()), "tax.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    db.session.rollback()
    assert reference.lookup("tax_type", "HIGH").max_rate == 800.0
    listing = client.get("/admin/reference/tax_type")
    assert b"High tariff" in listing.data and b"create" in listing.data


def test_load_is_all_or_nothing_and_names_the_row(db, make):
    admin = make.actor(make.user(roles=["administrator"]))
    text = "code,label,kind,country,latitude,longitude\nA1,A,,XK,,\nB1,B,,XK,95,20\n"
    with pytest.raises(ValidationError) as exc:
        reference.load_rows("office", text, actor=admin)
    assert "row 3, column latitude" in exc.value.fields
    assert reference.lookup("office", "A1") is None


def test_cli_list_load_and_seed(runner, tmp_path, db):
    path = tmp_path / "proc.csv"
    path.write_text("code,label\n4010,Release after outward processing\n", encoding="utf-8")
    out = runner.invoke(args=["reference", "load", "procedure", str(path)])
    assert out.exit_code == 0, out.output
    assert "1 added" in out.output
    listed = runner.invoke(args=["reference", "list", "procedure"])
    assert "4010\tRelease after outward processing" in listed.output
    seeded = runner.invoke(args=["reference", "seed", "kcs"])
    assert seeded.exit_code == 0 and "entries added" in seeded.output
    db.session.rollback()
    assert reference.lookup("tax_type", "W2").max_rate == 1000.0
    assert db.session.scalar(select(ReferenceEntry.id).where(ReferenceEntry.code == "154"))
