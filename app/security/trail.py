"""The access trail (EU Directive 2016/680 Art. 25): one append-only, hash-chained row per
consultation, collection, alteration, disclosure or erasure of a sensitive record.

Rows are created in the caller's transaction (so an action and its trail row commit or
roll back together) and chained just before commit, under a lock, so concurrent writers
cannot fork the chain. Database triggers refuse UPDATE and DELETE.

The chain proves that no row was altered in place; it cannot prove the trail's length (rows
cut from its end, or rewritten with every later hash recomputed). Signed checkpoints kept
outside the database do that: see ``app.security.checkpoints``.
"""

import hashlib
import json
from collections.abc import Callable

from sqlalchemy import DDL, BigInteger, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db

ACTIONS = {
    "view": "consultation",
    "search": "consultation (search)",
    "export": "consultation (export)",
    "print": "consultation (print)",
    "create": "collection",
    "update": "alteration",
    "disclose": "disclosure",
    "delete": "erasure",
    "login": "sign-in",
    "logout": "sign-out",
}
#: actions that may not happen without a stated justification
JUSTIFIED_ACTIONS = {"export", "disclose"}
GENESIS = "0" * 64
_PG_LOCK_KEY = 72_616_900  # arbitrary constant shared by every Tollgate process


class AccessEvent(db.Model):
    __tablename__ = "access_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: position in the hash chain; unique so two writers can never share a predecessor
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_dt = mapped_column(UTCDateTime, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(120))
    roles: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(20))
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    query: Mapped[str | None] = mapped_column(Text)
    justification: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10), default="allowed")
    details: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (db.Index("ix_access_event_record", "record_type", "record_id"),)

    def canonical(self) -> bytes:
        """The exact bytes hashed into the chain."""
        payload = [
            self.seq,
            self.occurred_dt.isoformat(),
            self.user_id,
            self.username,
            self.roles,
            self.action,
            self.record_type,
            self.record_id,
            self.query,
            self.justification,
            self.client_addr,
            self.outcome,
            self.details,
            self.prev_hash,
        ]
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

    def __repr__(self):
        return f"<AccessEvent {self.seq} {self.action} {self.record_type}:{self.record_id}>"


# Append-only at the database level too: the application never edits a trail row.
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS access_event_no_update BEFORE UPDATE ON access_event "
    "BEGIN SELECT RAISE(ABORT, 'access_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS access_event_no_delete BEFORE DELETE ON access_event "
    "BEGIN SELECT RAISE(ABORT, 'access_event is append-only'); END",
]
_PG_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION access_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'access_event is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER access_event_no_change BEFORE UPDATE OR DELETE ON access_event "
    "FOR EACH ROW EXECUTE FUNCTION access_event_append_only()",
]
APPEND_ONLY_DDL = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _PG_TRIGGERS}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _stmt in _statements:
        event.listen(AccessEvent.__table__, "after_create", DDL(_stmt).execute_if(dialect=_dialect))


class JustificationRequired(ValueError):
    """An export or disclosure was attempted without saying why."""


def record(
    actor,
    action: str,
    record_type: str | None = None,
    record_id=None,
    *,
    outcome: str = "allowed",
    justification: str | None = None,
    query: str | None = None,
    details: dict | str | None = None,
) -> AccessEvent:
    """Add one trail row to the current transaction (chained at commit) and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown trail action {action!r}")
    if action in JUSTIFIED_ACTIONS and outcome == "allowed" and not (justification or "").strip():
        raise JustificationRequired(f"A justification is required to {action}.")
    if isinstance(details, dict):
        details = json.dumps(details, sort_keys=True, default=str)
    row = AccessEvent(
        occurred_dt=now_utc(),
        user_id=actor.user_id,
        username=actor.username,
        roles=",".join(actor.roles),
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        query=query,
        justification=(justification or "").strip() or None,
        client_addr=actor.client_addr,
        outcome=outcome,
        details=details,
    )
    db.session.add(row)
    return row


def copy_event(row: AccessEvent) -> AccessEvent:
    """A fresh, unchained copy (used to re-add a denial row after a rollback)."""
    return AccessEvent(
        occurred_dt=row.occurred_dt,
        user_id=row.user_id,
        username=row.username,
        roles=row.roles,
        action=row.action,
        record_type=row.record_type,
        record_id=row.record_id,
        query=row.query,
        justification=row.justification,
        client_addr=row.client_addr,
        outcome=row.outcome,
        details=row.details,
    )


@event.listens_for(Session, "before_flush")
def _chain_new_events(session, flush_context, instances):
    """Give pending trail rows their place in the chain just before they are written."""
    pending = [o for o in session.new if isinstance(o, AccessEvent) and o.seq is None]
    if not pending:
        return
    bind = session.connection()
    if bind.dialect.name == "postgresql":
        # Held to the end of the transaction: one chain writer at a time across processes.
        bind.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = bind.execute(
        select(AccessEvent.seq, AccessEvent.hash).order_by(AccessEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    for row in sorted(pending, key=lambda r: r.occurred_dt):
        seq += 1
        row.seq = seq
        row.prev_hash = prev
        row.hash = hashlib.sha256(row.canonical()).hexdigest()
        prev = row.hash


def verify(
    batch: int = 5000,
    *,
    base: tuple[int, str] | None = None,
    visit: Callable[[AccessEvent, int], None] | None = None,
) -> tuple[bool, int, str]:
    """Recompute the whole chain. Returns (ok, rows checked, message).

    The chain starts at genesis, or after ``base`` = (seq, hash) of the last row removed by a
    retention prune (the caller vouches for it with a signed prune checkpoint). ``visit(row,
    rows checked so far)`` is called for every row that verified, in chain order.
    """
    last_seq, prev = base or (0, GENESIS)
    expected_seq = last_seq + 1
    checked = 0
    while True:
        rows = (
            db.session.execute(
                select(AccessEvent)
                .where(AccessEvent.seq > last_seq)
                .order_by(AccessEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return False, checked, f"row seq {expected_seq} is missing (found {row.seq})"
            if row.prev_hash != prev:
                return False, checked, f"row seq {row.seq} does not follow its predecessor"
            if hashlib.sha256(row.canonical()).hexdigest() != row.hash:
                return False, checked, f"row seq {row.seq} (id {row.id}) was modified"
            prev = row.hash
            expected_seq += 1
            checked += 1
            last_seq = row.seq
            if visit is not None:
                visit(row, checked)
        db.session.expunge_all()
    return True, checked, f"chain intact: {checked} rows"


# --- the protecting triggers ---------------------------------------------------------------

_PG_FUNCTION = "access_event_append_only"
_PG_TRIGGER = "access_event_no_change"
#: pg_trigger.tgtype bits: FOR EACH ROW, BEFORE, DELETE, UPDATE
_PG_ROW_BEFORE_DELETE_UPDATE = 1 | 2 | 8 | 16


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def _expected_sqlite_triggers() -> dict[str, str]:
    """Trigger name -> its definition as sqlite_master keeps it (without IF NOT EXISTS)."""
    expected = {}
    for ddl in _SQLITE_TRIGGERS:
        stored = ddl.replace("IF NOT EXISTS ", "")
        expected[stored.split()[2]] = _squash(stored)
    return expected


def _expected_pg_body() -> str:
    return _squash(_PG_TRIGGERS[0].split("$$")[1])


def trigger_problems(conn) -> list[str]:
    """What is wrong with the triggers that keep the trail append-only (empty if nothing).

    Checked in the catalogue by name and by definition: a trigger that was dropped, disabled
    or replaced by one that lets changes through is as good as missing.
    """
    if conn.dialect.name == "sqlite":
        found = {
            name: _squash(sql or "")
            for name, sql in conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name = 'access_event'"
                )
            )
        }
        problems = []
        for name, definition in _expected_sqlite_triggers().items():
            if name not in found:
                problems.append(f"trigger {name} is missing: trail rows can be changed")
            elif found[name] != definition:
                problems.append(f"trigger {name} was altered: {found[name]}")
        return problems
    if conn.dialect.name != "postgresql":
        return [f"cannot check the triggers of a {conn.dialect.name} database"]
    rows = conn.execute(
        text(
            "SELECT t.tgname, t.tgenabled, t.tgtype, p.proname, p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = to_regclass('access_event') AND NOT t.tgisinternal"
        )
    ).all()
    row = next((r for r in rows if r.tgname == _PG_TRIGGER), None)
    if row is None:
        return [f"trigger {_PG_TRIGGER} is missing: trail rows can be changed"]
    problems = []
    if row.tgenabled not in ("O", "A"):  # D: disabled; R: fires only on replicas
        problems.append(f"trigger {_PG_TRIGGER} is disabled (tgenabled {row.tgenabled!r})")
    if row.tgtype & _PG_ROW_BEFORE_DELETE_UPDATE != _PG_ROW_BEFORE_DELETE_UPDATE:
        problems.append(f"trigger {_PG_TRIGGER} no longer fires before every UPDATE and DELETE")
    if row.proname != _PG_FUNCTION or _squash(row.prosrc) != _expected_pg_body():
        problems.append(
            f"trigger {_PG_TRIGGER} calls {row.proname}() whose body was altered: "
            f"{_squash(row.prosrc)[:120]}"
        )
    return problems
