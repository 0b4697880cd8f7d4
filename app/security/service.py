"""Accounts, sign-in, server-side sessions and API tokens. No ``flask.request`` here:
callers pass the client address and the acting user."""

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, case, literal, or_, select, update
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from app.core.errors import ValidationError as CoreValidationError
from app.core.time import as_utc, now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security import trail
from app.security.access import AccessDenied, Actor
from app.security.models import ApiClient, Unit, User, UserSession
from app.security.roles import API_SCOPES, ROLES

# argon2id with the library's RFC 9106 "low memory" profile defaults.
_hasher = PasswordHasher()


def use_fast_hashing() -> None:
    """Cheaper argon2id parameters for the test suite only (still argon2id)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("tollgate-timing-equaliser")


# Verifying against this keeps the timing of "no such user" close to "wrong password".
_DUMMY_HASH = _hasher.hash("tollgate-timing-equaliser")
MIN_PASSWORD_LENGTH = 12


class ValidationError(CoreValidationError):
    """Bad input, with the one field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__({field: message})
        self.field = field
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random values: a fast hash is enough and keeps look-ups cheap.
    return hashlib.sha256(token.encode()).hexdigest()


# --- units and users -------------------------------------------------------------------


def create_unit(code: str, name: str, kind: str = "office", *, actor: Actor) -> Unit:
    """Create a unit (team); codes are unique."""
    actor.require("admin.users")
    code = code.strip().upper()
    if not code:
        raise ValidationError("code", "is required")
    if db.session.scalar(select(Unit).where(Unit.code == code)):
        raise ValidationError("code", f"unit {code} already exists")
    unit = Unit(code=code, name=name.strip() or code, kind=kind)
    db.session.add(unit)
    db.session.flush()
    trail.record(actor, "create", "unit", unit.id)
    return unit


def create_user(
    username: str,
    password: str,
    *,
    full_name: str,
    unit: Unit,
    roles,
    email: str | None = None,
    actor: Actor,
) -> User:
    """Create an account with argon2id-hashed password."""
    actor.require("admin.users")
    username = username.strip().lower()
    if not username:
        raise ValidationError("username", "is required")
    if db.session.scalar(select(User).where(User.username == username)):
        raise ValidationError("username", f"{username} already exists")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationError("roles", f"unknown role(s): {', '.join(sorted(unknown))}")
    check_password_policy(password)
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        email=email,
        password_hash=hash_password(password),
        unit=unit,
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    trail.record(actor, "create", "user", user.id, details={"roles": sorted(roles)})
    return user


def update_user(
    user: User,
    *,
    actor: Actor,
    full_name=None,
    email=None,
    unit=None,
    roles=None,
    is_active=None,
    supervisor=None,
    password=None,
) -> User:
    """Change an account; every change is in the trail."""
    actor.require("admin.users")
    changed = []
    if full_name is not None and full_name != user.full_name:
        user.full_name, changed = full_name, [*changed, "full_name"]
    if email is not None and email != user.email:
        user.email, changed = email or None, [*changed, "email"]
    if unit is not None and unit.id != user.unit_id:
        user.unit, changed = unit, [*changed, "unit"]
    if roles is not None and sorted(set(roles)) != user.roles:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValidationError("roles", f"unknown role(s): {', '.join(sorted(unknown))}")
        user.set_roles(roles)
        changed.append("roles")
    if supervisor is not None and supervisor.id != user.supervisor_id:
        if supervisor.id == user.id:
            raise ValidationError("supervisor", "a user cannot supervise themselves")
        user.supervisor, changed = supervisor, [*changed, "supervisor"]
    if is_active is not None and is_active != user.is_active:
        user.is_active, changed = is_active, [*changed, "is_active"]
        if not is_active:
            revoke_sessions(user)
    if password:
        check_password_policy(password)
        user.password_hash = hash_password(password)
        user.password_changed_dt = now_utc()
        revoke_sessions(user)
        changed.append("password")
    if changed:
        trail.record(actor, "update", "user", user.id, details={"changed": changed})
    return user


def unlock_user(user: User, *, actor: Actor) -> None:
    actor.require("admin.users")
    user.failed_logins = 0
    user.locked_until_dt = None
    trail.record(actor, "update", "user", user.id, details={"changed": ["unlocked"]})


# --- sign-in and sessions ----------------------------------------------------------------


def is_locked(user: User, config) -> bool:
    until = as_utc(user.locked_until_dt)
    return until is not None and until > now_utc()


def authenticate(username: str, password: str, *, client_addr: str | None, config) -> User | None:
    """Check credentials, applying the lockout. Returns the user or None (never says why).

    Every answer costs the same work: exactly one argon2 verification, against the account's
    own hash or, for an unknown or inactive name, a dummy hash of the same parameters; so
    neither the answer nor its timing tells an unknown name from a locked account or a wrong
    password. The failure counter and the lock are changed by single atomic UPDATEs, so
    parallel attempts (any number of workers, either backend) lock the account exactly at the
    limit.
    """
    user = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password)
        _record_login(user, username, client_addr, "denied", "unknown or inactive account")
        return None
    password_ok = _verify(user.password_hash, password)
    if is_locked(user, config):
        # OWASP Authentication Cheat Sheet ("Authentication Responses"): one generic answer
        # whether the name is unknown, the password wrong or the account locked. Not even the
        # right password learns of the lock: a different answer for it would confirm the very
        # guess the lockout exists to stop. The sign-in page says that accounts lock.
        _record_login(user, username, client_addr, "denied", "account locked")
        return None
    if not password_ok:
        _record_login(user, username, client_addr, "denied", _count_failure(user, config))
        return None
    if not _clear_failures(user):
        _record_login(user, username, client_addr, "denied", "account locked")
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _record_login(user, username, client_addr, "allowed", None)
    return user


def _verify(password_hash: str, password: str | None) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except VerificationError:  # a mismatch is one
        return False
    except InvalidHashError:
        # An unusable stored hash fails before any work: do the work anyway, or the quick
        # answer would tell that the account exists.
        _verify(_DUMMY_HASH, password)
        return False


def _not_locked(now):
    return or_(User.locked_until_dt.is_(None), User.locked_until_dt <= now)


def _count_failure(user: User, config) -> str:
    """Count a wrong password and lock at the limit, in one statement; the trail's reason.

    ``failed_logins + 1`` is computed by the database under the row lock, never read and
    written back: 30 parallel wrong passwords on PostgreSQL used to all read the same count
    and lock nothing. An attempt that finds the account locked meanwhile is not counted.
    """
    now = now_utc()
    reaches_limit = User.failed_logins + 1 >= config["TOLLGATE_MAX_FAILED_LOGINS"]
    until = literal(now + config["TOLLGATE_LOCKOUT"], UTCDateTime())
    row = db.session.execute(
        update(User)
        .where(User.id == user.id, _not_locked(now))
        .values(
            # The counter restarts with the lock: after it expires the account has the full
            # number of attempts again.
            failed_logins=case((reaches_limit, 0), else_=User.failed_logins + 1),
            locked_until_dt=case((reaches_limit, until), else_=User.locked_until_dt),
        )
        .returning(User.failed_logins, User.locked_until_dt)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        return "account locked"  # by a parallel attempt since this one read the account
    set_committed_value(user, "failed_logins", row.failed_logins)
    set_committed_value(user, "locked_until_dt", row.locked_until_dt)
    # Only the locking branch sets the counter to 0; every other failure leaves it >= 1.
    return "wrong password; account locked" if row.failed_logins == 0 else "wrong password"


def _clear_failures(user: User) -> bool:
    """Reset the counter for a right password, unless parallel failures locked the account
    since it was read (then False: locked is locked)."""
    now = now_utc()
    done = db.session.execute(
        update(User)
        .where(User.id == user.id, _not_locked(now))
        .values(failed_logins=0, locked_until_dt=None, last_login_dt=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if done is None:
        return False
    for name, value in (("failed_logins", 0), ("locked_until_dt", None), ("last_login_dt", now)):
        set_committed_value(user, name, value)
    return True


def _record_login(user, username, client_addr, outcome, reason):
    actor = Actor(
        user_id=user.id if user else None,
        username=user.username if user else (username or "")[:80],
        unit_id=user.unit_id if user else None,
        roles=tuple(user.roles) if user else (),
        client_addr=client_addr,
    )
    trail.record(
        actor,
        "login",
        "user",
        user.id if user else None,
        outcome=outcome,
        details={"reason": reason} if reason else None,
    )


def start_session(user: User, client_addr: str | None) -> str:
    """Create a server-side session and return the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_token_hash(token), user=user, client_addr=client_addr))
    return token


def resolve_session(token: str | None, config, *, touch: bool = True) -> UserSession | None:
    """Return the live session for ``token``, ending it if idle or too old.

    ``touch=False`` for a request the page makes by itself (a poll): it must not keep an
    unattended session alive."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_dt is not None:
        return None
    now = now_utc()
    expired = (
        now - as_utc(row.last_seen_dt) > config["TOLLGATE_IDLE_TIMEOUT"]
        or now - as_utc(row.created_dt) > config["TOLLGATE_SESSION_LIFETIME"]
    )
    if expired or not row.user.is_active:
        row.revoked_dt = now
        return None
    # Touch at most once a minute: a write on every request would serialise SQLite readers.
    if touch and now - as_utc(row.last_seen_dt) > timedelta(seconds=60):
        row.last_seen_dt = now
    return row


def end_session(token: str | None, actor: Actor | None = None) -> None:
    row = token and db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token))
    )
    if row and row.revoked_dt is None:
        row.revoked_dt = now_utc()
        if actor is not None:
            trail.record(actor, "logout", "user", row.user_id)


def revoke_sessions(user: User) -> None:
    for row in db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_dt.is_(None))
    ):
        row.revoked_dt = now_utc()


# --- API clients -----------------------------------------------------------------------


def create_api_client(name: str, unit: Unit, scopes, *, actor: Actor) -> tuple[ApiClient, str]:
    """Create a client and return it with its token (shown once, stored only hashed)."""
    actor.require("admin.clients")
    unknown = set(scopes) - set(API_SCOPES)
    if unknown:
        raise ValidationError("scopes", f"unknown scope(s): {', '.join(sorted(unknown))}")
    if not name.strip():
        raise ValidationError("name", "is required")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        name=name.strip(),
        unit=unit,
        scopes=" ".join(sorted(set(scopes))),
        token_prefix=prefix,
        token_hash=_token_hash(secret),
        created_by_id=actor.user_id,
    )
    db.session.add(client)
    db.session.flush()
    trail.record(actor, "create", "api_client", client.id, details={"scopes": sorted(scopes)})
    return client, f"tg_{prefix}_{secret}"


def revoke_api_client(client: ApiClient, *, actor: Actor) -> None:
    actor.require("admin.clients")
    if client.revoked_dt is None:
        client.revoked_dt = now_utc()
        trail.record(actor, "update", "api_client", client.id, details={"changed": ["revoked"]})


#: built once: this runs for every API request (the declaration system posts hundreds a
#: second); the unit is not read on that path, so it is not joined in (loaded if asked for)
_CLIENT_BY_PREFIX = (
    select(ApiClient)
    .where(ApiClient.token_prefix == bindparam("prefix"))
    .options(lazyload(ApiClient.unit))
)


def client_for_token(token: str | None) -> ApiClient | None:
    """The active client owning ``token``, compared in constant time."""
    if not token or not token.startswith("tg_") or token.count("_") < 2:
        return None
    _, prefix, secret = token.split("_", 2)
    client = db.session.scalar(_CLIENT_BY_PREFIX, {"prefix": prefix})
    if client is None or client.revoked_dt is not None:
        return None
    if not secrets.compare_digest(client.token_hash, _token_hash(secret)):
        return None
    return client


#: a client's last-used time is written at most this often (seconds)
CLIENT_TOUCH_SECONDS = 60


def client_touch_statement(client_id: int, now):
    """The last-used time's UPDATE: only if it is older than CLIENT_TOUCH_SECONDS, so that of
    a client's concurrent requests one writes it (the others match no row)."""
    cutoff = now - timedelta(seconds=CLIENT_TOUCH_SECONDS)
    return (
        update(ApiClient)
        .where(
            ApiClient.id == client_id,
            or_(ApiClient.last_used_dt.is_(None), ApiClient.last_used_dt < cutoff),
        )
        .values(last_used_dt=now)
    )


def touch_client(client_id: int) -> None:
    """Write a client's last-used time in a transaction of its own, after its request's:
    updated inside the request, the client's row stayed locked to its end, and a request
    waiting for that row while holding the trail's lock deadlocked with one holding the row
    and waiting for the trail's lock (PostgreSQL)."""
    db.session.execute(client_touch_statement(client_id, now_utc()))
    db.session.commit()


def require_active_user(user: User | None) -> User:
    if user is None or not user.is_active:
        raise AccessDenied("Sign in required", status=401)
    return user
