"""Tables of screening: lists, their loaded versions, and the entries of each version.

A version's entries are written beside the current version's (``ScreeningEntry.version_id``)
and become the list's when ``ScreeningList.current_version_id`` moves to it, in one short
transaction; the previous version's rows are deleted after (``app.screening.loader``)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db


class ScreeningList(db.Model):
    """A sanctions or watch list the parties of declarations are screened against."""

    __tablename__ = "screening_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: who publishes it ("OpenSanctions", "EU FSF", "national watch list")
    source: Mapped[str] = mapped_column(String(200), default="")
    #: handling code of what the list says (P public, C confidential): who may read its hits
    sensitivity: Mapped[str] = mapped_column(String(1), default="P")
    #: a match scores at least this (0..1) to count as a hit
    threshold: Mapped[float] = mapped_column(Float, default=0.7)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: the version whose entries the list holds now
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    created_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)


class ScreeningListVersion(db.Model):
    """One loaded file of a list, with what it added, removed and changed."""

    __tablename__ = "screening_list_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("screening_list.id"), index=True)
    #: the publisher's date of this version
    version_date = mapped_column(Date, nullable=False)
    #: "ftm" or "csv"
    file_format: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    #: the CSV mapping the file was read with (None for FtM)
    mapping: Mapped[dict | None] = mapped_column(JSON)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    #: "loading" while its entries are written, "loaded" once it became the list's current
    #: version, "failed" when the load stopped (its entries deleted)
    status: Mapped[str] = mapped_column(String(10), default="loaded")
    #: entities of other schemata in the file (addresses, sanctions, links): read, not screened
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    #: {"added": [[entry_id, caption], ...], "removed": [...], "changed": [...]}, first 500 each
    diff: Mapped[dict] = mapped_column(JSON, default=dict)
    loaded_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    loaded_by: Mapped[str] = mapped_column(String(80), default="")


class ScreeningEntry(db.Model):
    """A person, company, organisation or vessel on a list, as one version has it (the
    list's current version, or one being loaded)."""

    __tablename__ = "screening_entry"
    __table_args__ = (
        UniqueConstraint("version_id", "entry_id", name="uq_screening_entry_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("screening_list.id"), index=True)
    #: indexed by the unique constraint (version_id first): no index of its own to maintain
    version_id: Mapped[int] = mapped_column(ForeignKey("screening_list_version.id"))
    #: the list's own id of the entry (an OpenSanctions id such as "NK-...")
    entry_id: Mapped[str] = mapped_column(String(200))
    #: FtM schema: Person, Company, Organization, LegalEntity, Vessel
    schema: Mapped[str] = mapped_column(String(20))
    caption: Mapped[str] = mapped_column(String(500))
    #: every name and alias, as the list wrote them
    names: Mapped[list] = mapped_column(JSON)
    countries: Mapped[list] = mapped_column(JSON)
    #: [[kind, value], ...] as the list wrote them (kind: FtM property, e.g. imoNumber)
    identifiers: Mapped[list] = mapped_column(JSON)
    birth_dates: Mapped[list] = mapped_column(JSON)
    #: the entry's FtM properties as read (CSV rows: the mapped columns)
    properties: Mapped[dict] = mapped_column(JSON)
    #: the comparable names (normalize.encode_names): the index reads these, not ``names``
    match_names: Mapped[str] = mapped_column(Text)
    #: the comparable identifiers, "KIND:VALUE" separated by spaces
    match_ids: Mapped[str] = mapped_column(Text, default="")
    #: hash of the entry's data: a judgement holds until it (or the party) changes
    version_key: Mapped[int] = mapped_column(BigInteger)
    #: the version that first carried the entry, and the last that changed it
    first_version_id: Mapped[int] = mapped_column(Integer)
    changed_version_id: Mapped[int] = mapped_column(Integer)
