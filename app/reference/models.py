"""Tables of the reference-data domain: coded lists and the history of their changes."""

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db


class ReferenceEntry(db.Model):
    """One code of one reference list (an office, a country, a transport mode ...).

    Entries are never deleted: an administrator deactivates them, and an inactive code is
    refused in new declarations while old records that carry it keep their meaning."""

    __tablename__ = "reference_entry"
    __table_args__ = (UniqueConstraint("list_name", "code", name="uq_reference_entry_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the list (``app.reference.service.LISTS``): office, crossing, country, currency ...
    list_name: Mapped[str] = mapped_column(String(20), index=True)
    #: the code as declarations carry it (exact, case as listed)
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    #: a sub-kind: office kind (border, port, airport, postal, inland), crossing kind
    #: (road, rail, sea, air, pedestrian) ...
    kind: Mapped[str | None] = mapped_column(String(20))
    #: ISO 3166-1 alpha-2 country of a place
    country: Mapped[str | None] = mapped_column(String(2))
    #: WGS 84 coordinates of a place (decimal degrees)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    #: tax types: the highest rate (percent) a declaration may carry; None = 100
    max_rate: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    updated_dt = mapped_column(UTCDateTime)


class ReferenceChange(db.Model):
    """Who changed which entry, when, and what it was before and after (the list's history)."""

    __tablename__ = "reference_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("reference_entry.id"), index=True)
    #: create / update / deactivate / activate / load
    action: Mapped[str] = mapped_column(String(12))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    changed_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the actor's name as the trail has it (system jobs have no user)
    changed_by: Mapped[str] = mapped_column(String(80), default="")
