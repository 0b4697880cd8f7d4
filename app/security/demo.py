"""Demo units and one account per role (credentials printed by ``tollgate demo load``)."""

import click
from sqlalchemy import select

from app.extensions import db
from app.security import roles as R
from app.security.models import ApiClient, Unit, User
from app.security.service import _token_hash, hash_password

DEMO_UNITS = [
    ("HQ-INT", "Central Intelligence Unit", "intelligence"),
    ("HQ-RISK", "Risk Management Unit", "risk"),
    ("PCA-1", "Post-Clearance Audit Team 1", "audit"),
    ("BCP-N", "Northern Border Crossing Point", "border"),
    ("PORT-S", "Southern Seaport Office", "border"),
    ("HQ-ADM", "IT Administration", "hq"),
    # The headquarters unit `make run` designates for escalations beyond a unit
    # (TOLLGATE_ALERT_ESCALATION_UNITS=HQ-ENF): its director takes what a unit's top
    # supervisor leaves unhandled.
    ("HQ-ENF", "Enforcement Directorate (headquarters)", "hq"),
    # Units named by their office's code (app/reference/data/demo/office.csv), so a control
    # result recorded at the airport or the postal office opens its seizure case there, as at
    # BCP-N and PORT-S (risk.control.office_unit_id), with no TOLLGATE_OFFICE_UNITS needed.
    ("AIR-C", "Prishtina Airport Customs Office", "border"),
    ("POST-1", "Prishtina Postal Customs Office", "border"),
]

#: username, full name, unit, roles, supervisor username
DEMO_USERS = [
    ("supervisor", "Mira Kastrati", "BCP-N", [R.SUPERVISOR], None),
    ("intel", "Ilir Berisha", "HQ-INT", [R.INTELLIGENCE_OFFICER], "supervisor"),
    ("analyst", "Ana Petrovska", "HQ-RISK", [R.RISK_ANALYST], "supervisor"),
    ("auditor", "Petar Nikolov", "PCA-1", [R.PCA_AUDITOR], "supervisor"),
    ("officer", "Enis Gashi", "BCP-N", [R.ENFORCEMENT_OFFICER], "supervisor"),
    ("officer2", "Lena Hoxha", "PORT-S", [R.ENFORCEMENT_OFFICER], "supervisor"),
    ("officer3", "Drilon Hoti", "AIR-C", [R.ENFORCEMENT_OFFICER], "supervisor"),
    ("officer4", "Teuta Rama", "POST-1", [R.ENFORCEMENT_OFFICER], "supervisor"),
    ("director", "Shpresa Dema", "HQ-ENF", [R.SUPERVISOR], None),
    ("admin", "Arben Krasniqi", "HQ-ADM", [R.ADMINISTRATOR], None),
    # reads the access trail of every unit (trail.view_all), and nothing else
    ("dpo", "Vesa Morina", "HQ-ADM", [R.DATA_PROTECTION_OFFICER], None),
]

#: the demo system client's token, so the declaration system simulator can post at once
DEMO_CLIENT_TOKEN = "tg_demo0000cdps_tollgate-demo-declaration-system-token"  # noqa: S105 - demo only


def demo_password(username: str) -> str:
    return f"{username}-Tollgate-26"


def load_security_demo(options) -> None:
    units = {}
    for code, name, kind in DEMO_UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            unit = Unit(code=code, name=name, kind=kind)
            db.session.add(unit)
        units[code] = unit
    db.session.flush()
    users = {}
    for username, full_name, unit_code, roles, _ in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                full_name=full_name,
                unit=units[unit_code],
                email=f"{username}@customs.example",
                password_hash=hash_password(demo_password(username)),
            )
            user.set_roles(roles)
            db.session.add(user)
        users[username] = user
    db.session.flush()
    for username, *_, supervisor in DEMO_USERS:
        if supervisor and users[username].supervisor_id is None:
            users[username].supervisor_id = users[supervisor].id
    if db.session.scalar(select(ApiClient).where(ApiClient.token_prefix == "demo0000cdps")) is None:  # noqa: S105
        _, prefix, secret = DEMO_CLIENT_TOKEN.split("_", 2)
        db.session.add(
            ApiClient(
                name="Declaration processing system (demo)",
                unit=units["HQ-RISK"],
                scopes="control-results:write declarations:read declarations:write",
                token_prefix=prefix,
                token_hash=_token_hash(secret),
            )
        )


def print_credentials() -> None:
    click.echo("\nDemo accounts (username / password — role, unit):")
    for username, _name, unit, roles, _ in DEMO_USERS:
        click.echo(
            f"  {username:11} / {demo_password(username):24} — "
            f"{', '.join(R.ROLE_LABELS[r] for r in roles)}, {unit}"
        )
    click.echo(f"Demo API token (declaration system): {DEMO_CLIENT_TOKEN}\n")
