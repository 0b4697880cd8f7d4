"""Settings that say no (issue 17 item 6): every field's error is shown next to it, channel
targets add up to at most 100 %, and each change of rates, threshold and seed is a version
with who and when (shown on the settings page, trailed)."""

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.risk import settings
from app.risk.models import SettingsVersion
from app.security.access import Actor
from app.security.trail import AccessEvent


def _now():
    state = settings.engine_state()
    return settings.selectivity_rates(), state.ml_threshold, state.ml_channel, state.random_seed


def _form(**over):
    data = {
        "target_green": "70",
        "target_blue": "5",
        "target_yellow": "12",
        "random_yellow": "2",
        "target_orange": "5",
        "target_red": "8",
        "random_red": "1",
        "ml_threshold": "0.8",
        "ml_channel": "yellow",
    }
    data.update(over)
    return data


def test_an_ml_threshold_of_1_5_is_refused_with_the_reason_next_to_it(client, login_as, db):
    login_as("risk_analyst")
    before = _now()
    db.session.commit()
    resp = client.post("/risk/settings", data=_form(ml_threshold="1.5"))
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert 'id="ml_threshold-error-1"' in text
    assert 'aria-describedby="ml_threshold-error-1"' in text and 'aria-invalid="true"' in text
    assert "must be a score between 0 and 1" in text
    assert 'id="settings-errors"' in text and "not saved" in text
    db.session.rollback()
    assert _now() == before


def test_channel_targets_above_100_percent_are_refused(client, login_as, db):
    login_as("risk_analyst")
    before = _now()
    db.session.commit()
    resp = client.post(
        "/risk/settings",
        data=_form(target_green="90", target_yellow="40", target_red="50", target_orange="22"),
    )
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "the channel targets add up to 207 %; together they must be at most 100 %" in text
    db.session.rollback()
    assert _now() == before
    with pytest.raises(ValidationError) as exc:
        settings.set_rates(
            {"green": {"target_rate": 0.9, "min_random_rate": 0}},
            actor=Actor.system(),
        )
    assert "at most 100 %" in exc.value.fields["target_rate"]


def test_each_change_is_a_version_with_who_and_when_shown_and_trailed(client, login_as, db):
    user = login_as("risk_analyst")
    assert client.post("/risk/settings", data=_form()).status_code == 302
    assert client.post("/risk/settings", data=_form(ml_threshold="0.9")).status_code == 302
    resp = client.post("/risk/settings", data=_form(ml_threshold="0.9", rotate_seed="y"))
    assert resp.status_code == 302
    db.session.rollback()
    rows = db.session.scalars(select(SettingsVersion).order_by(SettingsVersion.version)).all()
    # Version 1 is what was in force before the first recorded change.
    assert [r.version for r in rows] == [1, 2, 3, 4]
    assert rows[0].changes == ["settings in force before the first recorded change"]
    assert rows[1].changed_by_id == user.id and "ML threshold: — → 0.8" in rows[1].changes
    assert rows[2].changes == ["ML threshold: 0.8 → 0.9"]
    assert len(rows[3].changes) == 1 and rows[3].changes[0].startswith("random seed: ")
    # The current settings are the latest version.
    assert rows[-1].values == settings.current_values()
    trail = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type == "risk_settings")
    ).all()
    assert [(e.action, e.record_id, e.user_id) for e in trail] == [
        ("update", "2", user.id),
        ("update", "3", user.id),
        ("update", "4", user.id),
    ]
    # Saving the same values again is no new version.
    client.post("/risk/settings", data=_form(ml_threshold="0.9"))
    db.session.rollback()
    assert db.session.query(SettingsVersion).count() == 4
    page = client.get("/risk/settings").get_data(as_text=True)
    history = page[page.index('id="settings-history"') :]
    assert user.username in history and "ML threshold: 0.8 → 0.9" in history


def test_a_rate_out_of_range_or_not_a_number_is_named_next_to_its_field(client, login_as, db):
    login_as("risk_analyst")
    resp = client.post("/risk/settings", data=_form(target_red="150", random_yellow="lots"))
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert 'id="target_red-error-1"' in text and "must be between 0 and 100 %" in text
    assert 'id="random_yellow-error-1"' in text
    assert 'aria-describedby="target_red-error-1"' in text
