"""The administrator's screening pages (issue 20): upload a list version, see what it added,
removed and changed; a wrong file is refused with its line and nothing changes."""

import io
import json

from sqlalchemy import func, select

from app.screening.models import ScreeningEntry, ScreeningList
from tests.screening.factories import company


def _upload(client, entities, version_date, raw_tail=""):
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities) + raw_tail
    data = {
        "file": (io.BytesIO(text.encode("utf-8")), "sanctions.ftm.json"),
        "name": "EU consolidated",
        "source": "OpenSanctions",
        "version_date": version_date,
        "sensitivity": "P",
        "threshold": "0.75",
    }
    return client.post(
        "/admin/screening/load",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_admin_uploads_versions_and_reads_the_diff(client, login_as, db):
    login_as("administrator")
    first = [company("eu-1", "Romashka LLC"), company("eu-2", "Vektor Holding GmbH")]
    page = _upload(client, first, "2026-11-01")
    assert page.status_code == 200
    assert b"2</strong> added" in page.data and b"Romashka LLC" in page.data

    second = [company("eu-1", "Romashka LLC", country="ru"), company("eu-3", "Orion Marine Ltd")]
    page = _upload(client, second, "2026-12-01")
    html = page.data.decode()
    assert (
        "<strong>1</strong> added, <strong>1</strong> removed, <strong>1</strong> changed" in html
    )
    assert "Orion Marine Ltd" in html and "Vektor Holding GmbH" in html
    lst = db.session.scalars(select(ScreeningList)).one()
    assert lst.threshold == 0.75
    listing = client.get(f"/admin/screening/{lst.id}").data.decode()
    assert "2026-11-01" in listing and "2026-12-01" in listing and "current" in listing


def test_a_wrong_upload_names_its_line_and_changes_nothing(client, login_as, db):
    login_as("administrator")
    _upload(client, [company("eu-1", "Romashka LLC")], "2026-11-01")
    page = _upload(
        client,
        [company("eu-9", "New Co")],
        "2026-12-01",
        raw_tail='{"id": "eu-10", "schema": "Company", "properties": {"nme": ["X"]}}\n',
    )
    html = page.data.decode()
    assert "Not loaded: line 2: entity eu-10: unknown property Company:nme" in html
    assert db.session.scalar(select(func.count()).select_from(ScreeningEntry)) == 1
    assert db.session.scalars(select(ScreeningEntry.entry_id)).one() == "eu-1"


def test_settings_refuse_a_threshold_out_of_range(client, login_as, db):
    login_as("administrator")
    _upload(client, [company("eu-1", "Romashka LLC")], "2026-11-01")
    lst = db.session.scalars(select(ScreeningList)).one()
    page = client.post(
        f"/admin/screening/{lst.id}/settings",
        data={"threshold": "1.5", "is_active": "y"},
        follow_redirects=True,
    )
    assert "Not changed: threshold" in page.data.decode()
    db.session.refresh(lst)
    assert lst.threshold == 0.75
