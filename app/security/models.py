"""Accounts, units, roles, server-side sessions, API clients and record shares."""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db


class Unit(db.Model):
    """A team: border post, intelligence unit, risk unit, audit team, headquarters."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code used in case reference numbers, e.g. "BCP-N"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="office")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    def __repr__(self):
        return f"<Unit {self.code}>"


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: whom alerts escalate to when this user does not acknowledge in time
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until_dt = mapped_column(UTCDateTime)
    last_login_dt = mapped_column(UTCDateTime)
    password_changed_dt = mapped_column(UTCDateTime, default=now_utc)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    unit: Mapped[Unit] = relationship(lazy="joined")
    supervisor: Mapped["User | None"] = relationship(remote_side=[id])
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> list[str]:
        return sorted(r.role for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        self.role_rows.extend(UserRole(role=r) for r in sorted(wanted - have))

    def __repr__(self):
        return f"<User {self.username}>"


class UserSession(db.Model):
    """A server-side session: the cookie carries only a random token whose hash is kept here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    last_seen_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    revoked_dt = mapped_column(UTCDateTime)
    client_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class ApiClient(db.Model):
    """A system client such as the declaration-processing system, with a scoped token."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: records the client creates belong to this unit
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    scopes: Mapped[str] = mapped_column(String(500), default="")
    #: public part of the token, used to find the row; the secret part is only hashed
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    last_used_dt = mapped_column(UTCDateTime)
    revoked_dt = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_active(self) -> bool:
        return self.revoked_dt is None

    def __repr__(self):
        return f"<ApiClient {self.name}>"


class RecordShare(db.Model):
    """Names a unit or a user allowed to see a handling-code-C record of another unit.

    A share grants access from ``created_dt`` until ``expires_dt`` or ``revoked_dt``, whichever
    comes first (``app.security.shares``). Rows are never deleted: a revoked or expired share
    stays as history, and sharing again with the same recipient adds a new row.
    """

    __tablename__ = "record_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: why the recipient needs the record (the justification of the trail rows)
    reason: Mapped[str | None] = mapped_column(Text)
    #: the share grants nothing from this instant on (None only for rows made before shares
    #: had an end)
    expires_dt = mapped_column(UTCDateTime, index=True)
    #: the record's handling conditions when it was shared (the recipient must respect them)
    conditions: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: who shared (user name or "api:<client>"), as written in the trail
    created_by: Mapped[str | None] = mapped_column(String(120))
    revoked_dt = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    #: when the expiry was written to the access trail (by the share-expiry job)
    expiry_logged_dt = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
