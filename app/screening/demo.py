"""Demo data of screening (``tollgate demo load``): a small sanctions list in FollowTheMoney
form, the sanctions desk (a unit and its analyst) and the profile "Party on sanctions list"
that sends a listed party to red and alerts the desk; then one declaration whose importer is
a transliterated variant of a listed company, so the feature is visible with ``make run``.
Idempotent: each piece is added once."""

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from app.core.time import today_utc
from app.extensions import db
from app.security.access import Actor

LIST_NAME = "Demo sanctions (FtM sample)"
DESK_UNIT = ("HQ-SANC", "Sanctions desk")
DESK_USER = ("sanctions", "Dua Krasniqi")
PROFILE_NAME = "Party on sanctions list"


def _company(entry_id, name, *aliases, country=None, **props):
    properties = {"name": [name], **props}
    if aliases:
        properties["alias"] = list(aliases)
    if country:
        properties["country"] = [country]
    return {"id": entry_id, "schema": "Company", "properties": properties}


def _person(entry_id, name, *aliases, birth=None, country=None):
    properties = {"name": [name]}
    if aliases:
        properties["alias"] = list(aliases)
    if birth:
        properties["birthDate"] = [birth]
    if country:
        properties["nationality"] = [country]
    return {"id": entry_id, "schema": "Person", "properties": properties}


ENTRIES = [
    _company("demo-stroytech", "ООО Стройтехимпорт", country="ru", innCode=["7701234567"]),
    _company("demo-acme-fze", "Acme Dual Use Trading FZE", country="ae"),
    _company("demo-nordic", "Nordic Precision Components GmbH", country="de"),
    _company(
        "demo-shirkat", "شركة النور للتجارة العامة", "Al Noor General Trading Co", country="ae"
    ),
    _company("demo-zhongxin", "Zhongxin Electronics Import Export Co Ltd", country="cn"),
    _person("demo-sidorov", "Иван Петрович Сидоров", birth="1971-04-02", country="ru"),
    _person("demo-haddad", "محمد الحداد", "Mohammed Al-Haddad", birth="1968-11-23", country="sy"),
    {
        "id": "demo-vessel",
        "schema": "Vessel",
        "properties": {"name": ["Sea Sparrow"], "imoNumber": ["IMO9876543"], "flag": ["pa"]},
    },
]


def _load_list(actor) -> None:
    from app.screening import loader
    from app.screening.models import ScreeningList

    if db.session.scalar(select(ScreeningList.id).where(ScreeningList.name == LIST_NAME)):
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-sanctions.ftm.json"
        path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in ENTRIES))
        loader.load_list(
            path,
            name=LIST_NAME,
            source="Tollgate demo (OpenSanctions-style FtM)",
            version_date=date(2026, 12, 1),
            sensitivity="P",
            actor=actor,
        )


def _desk():
    from app.security.demo import demo_password
    from app.security.models import Unit, User
    from app.security.roles import INTELLIGENCE_OFFICER
    from app.security.service import hash_password

    code, name = DESK_UNIT
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind="intelligence")
        db.session.add(unit)
        db.session.flush()
    username, full_name = DESK_USER
    if db.session.scalar(select(User.id).where(User.username == username)) is None:
        user = User(
            username=username,
            full_name=full_name,
            unit=unit,
            email=f"{username}@customs.example",
            password_hash=hash_password(demo_password(username)),
        )
        user.set_roles([INTELLIGENCE_OFFICER])
        db.session.add(user)
        db.session.flush()
    return unit


def _profile(unit, actor) -> None:
    from app.risk import profiles
    from app.risk.service import profile_exists

    if profile_exists(PROFILE_NAME):
        return
    p = profiles.create_profile(
        {
            "name": PROFILE_NAME,
            "risk_area": "Sanctions",
            "channel": "red",
            "conditions": {
                "join": "and",
                "conditions": [{"field": "party_on_list", "op": "on_any", "value": [LIST_NAME]}],
            },
            "instructions": "Hold the goods; the sanctions desk confirms or clears the match.",
            "is_sensitive": True,
            "recipients": {"users": [], "units": [unit.id], "roles": []},
        },
        actor=actor,
    )
    profiles.mark_simulated(p, {"selected": 0, "window": "demo"}, actor=actor)
    profiles.set_status(p.id, "active", actor=actor)


def _declaration(actor) -> None:
    from app.risk.assessment import submit_declaration
    from app.risk.service import declaration_exists
    from app.security.models import Unit

    number = "DEMO-SANCTIONS-1"
    if declaration_exists(number):
        return
    unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "HQ-RISK"))
    submit_declaration(
        {
            "number": number,
            "date": (today_utc() - timedelta(days=1)).isoformat(),
            "office": "BCP-N",
            "importer": "IMP-STROY",
            "parties": [
                {
                    "role": "importer",
                    "name": "Stroytekhimport LLC",
                    "kind": "company",
                    "country": "RU",
                }
            ],
            "items": [{"hs_code": "8471500000", "origin": "CN", "value": 25000.0, "mass": 80.0}],
        },
        actor=actor,
        unit_id=unit_id,
        link_entities=False,
    )


def load_screening_demo(options) -> None:
    from app.risk import engine
    from app.screening import service

    actor = Actor.system("demo")
    _load_list(actor)
    unit = _desk()
    _profile(unit, actor)
    engine.reset_cache()
    service.invalidate()
    _declaration(actor)
    click.echo(
        f"Screening: list '{LIST_NAME}' ({len(ENTRIES)} entries), profile '{PROFILE_NAME}' "
        f"alerting {DESK_UNIT[1]} (user {DESK_USER[0]}); declaration DEMO-SANCTIONS-1 screened"
    )
