"""Loading a version of a list: check the whole file, then stage it, then switch to it.

A file is read twice from disk. The first pass checks every line (the FtM model's schemata and
properties, or the CSV mapping's columns) and keeps only each entry's id and version key; a
single wrong line refuses the file before anything is written. The second pass writes the new
version's entries beside the current version's, committing every BATCH rows: a list of a
million entries takes minutes to write, and one transaction would hold SQLite's write lock
(every declaration waiting on it) for all of them. The list then switches to the new version
in one short transaction (its counts, its diff against the previous version, the trail row),
and the previous version's rows are deleted, again in short transactions. Until the switch
the screener reads the previous version only; a load that fails leaves it in place, its
version marked "failed" and its staged rows deleted (a crashed process's are deleted by the
next load of the list).

``load_list`` commits: the caller's session must hold nothing else pending.
"""

import hashlib
import time
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, select, update

from app.core.errors import ValidationError
from app.extensions import db
from app.screening import reader
from app.screening.models import ScreeningEntry, ScreeningList, ScreeningListVersion
from app.security import trail

BATCH = 2000
#: a pause after each committed batch on SQLite, so that writers waiting on the busy handler
#: (which polls every few ms up to 100 ms) take the write lock between two batches
SQLITE_YIELD_S = 0.02
#: how many ids of each kind the stored diff names (the counts are complete)
DIFF_SAMPLE = 500
MAX_ERRORS = 20
SENSITIVITIES = ("P", "C")


def _records(path: Path, file_format: str, mapping: dict | None):
    stream = path.open("rb")
    try:
        if file_format == "ftm":
            yield from reader.read_ftm(stream)
        else:
            yield from reader.read_csv(stream, mapping or {})
    finally:
        stream.close()


def check_file(path: Path, file_format: str, mapping: dict | None) -> tuple[dict, int]:
    """Pass 1: {entry_id: version_key} of the screened entries, and how many were skipped.

    Raises ValidationError naming up to MAX_ERRORS wrong lines."""
    keys: dict[str, int] = {}
    skipped = 0
    errors: dict[str, str] = {}
    try:
        for line, record in _records(path, file_format, mapping):
            if isinstance(record, reader.RowError):
                errors[f"line {line}"] = record.message
            elif record is None:
                skipped += 1
            elif record.entry_id in keys:
                errors[f"line {line}"] = f"entry {record.entry_id} appears twice"
            else:
                keys[record.entry_id] = record.version_key()
            if len(errors) >= MAX_ERRORS:
                break
    except reader.RowError as exc:
        errors[f"line {exc.line}"] = exc.message
    if errors:
        raise ValidationError(errors)
    if not keys:
        raise ValidationError({"file": "holds no person, company, organisation or vessel"})
    return keys, skipped


def _row(record, list_id: int, version_id: int, key: int) -> dict:
    return {
        "list_id": list_id,
        "entry_id": record.entry_id,
        "schema": record.schema,
        "caption": record.caption,
        "names": record.names,
        "countries": record.countries,
        "identifiers": record.identifiers,
        "birth_dates": record.birth_dates,
        "properties": record.properties,
        "match_names": record.match_names(),
        "match_ids": record.match_ids(),
        "version_key": key,
        "changed_version_id": version_id,
    }


def _get_or_create_list(name, source, sensitivity, threshold) -> ScreeningList:
    lst = db.session.scalars(select(ScreeningList).filter_by(name=name)).first()
    if lst is None:
        lst = ScreeningList(name=name, source=source or "", sensitivity=sensitivity)
        lst.threshold = 0.7 if threshold is None else threshold
        db.session.add(lst)
        db.session.flush()
    else:
        lst.source = source or lst.source
        lst.sensitivity = sensitivity
        if threshold is not None:
            lst.threshold = threshold
    return lst


def _check_meta(name, sensitivity, threshold, file_format, version_date):
    errors = {}
    if not (name or "").strip() or len(name) > 120:
        errors["name"] = "a name of 1 to 120 characters"
    if sensitivity not in SENSITIVITIES:
        errors["sensitivity"] = "P or C (a handling code)"
    if threshold is not None and not 0.0 < threshold <= 1.0:
        errors["threshold"] = "a score between 0 and 1"
    if file_format not in ("ftm", "csv"):
        errors["format"] = "ftm or csv"
    if not isinstance(version_date, date):
        errors["version_date"] = "a date (YYYY-MM-DD)"
    if errors:
        raise ValidationError(errors)


def load_list(
    path: Path,
    *,
    name: str,
    source: str,
    version_date: date,
    sensitivity: str,
    actor,
    file_format: str = "ftm",
    mapping: dict | None = None,
    threshold: float | None = None,
    file_name: str | None = None,
) -> ScreeningListVersion:
    """Load a file as the new version of list ``name`` (created on first load). Flushes."""
    actor.require("admin.reference")
    _check_meta(name, sensitivity, threshold, file_format, version_date)
    keys, skipped = check_file(path, file_format, mapping)
    lst = _get_or_create_list(name.strip(), source, sensitivity, threshold)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    version = ScreeningListVersion(
        list_id=lst.id,
        version_date=version_date,
        file_format=file_format,
        file_name=(file_name or path.name)[:255],
        file_sha256=digest.hexdigest(),
        mapping=mapping if file_format == "csv" else None,
        skipped=skipped,
        loaded_by_id=actor.user_id,
        loaded_by=actor.username[:80],
    )
    db.session.add(version)
    db.session.flush()
    list_id, version_id, previous_id = lst.id, version.id, lst.current_version_id
    db.session.commit()  # the version exists, "loading": its rows are invisible to screening
    _drop_rows(list_id, keep=previous_id, but=version_id)
    try:
        diff = _stage(path, file_format, mapping, list_id, version_id, previous_id, keys)
        staged = db.session.scalar(
            select(func.count()).where(ScreeningEntry.version_id == version_id)
        )
        if staged != len(keys):  # another load of the list deleted them: do not switch
            raise ValidationError({"file": "the load was interrupted; load the file again"})
    except BaseException:
        db.session.rollback()
        _fail(version_id)
        raise
    version, lst = (
        db.session.get(ScreeningListVersion, version_id),
        db.session.get(ScreeningList, list_id),
    )
    version.entry_count = len(keys)
    version.added, version.removed, version.changed = (diff["counts"][k] for k in
                                                       ("added", "removed", "changed"))  # fmt: skip
    version.diff = {k: diff[k] for k in ("added", "removed", "changed")}
    version.status = "loaded"
    lst.current_version_id = version_id
    trail.record(
        actor, "update", "screening_list", list_id,
        details={"version": version_id, "entries": len(keys), "added": version.added,
                 "removed": version.removed, "changed": version.changed},
    )  # fmt: skip
    db.session.commit()
    _drop_rows(list_id, keep=version_id)
    return version


def _commit_batch() -> None:
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        time.sleep(SQLITE_YIELD_S)


def _drop_rows(list_id: int, keep: int | None, but: int | None = None) -> None:
    """Delete the list's rows of versions other than ``keep`` (and ``but``: a load's own),
    BATCH at a time; a version left "loading" by a stopped process is marked failed."""
    others = select(ScreeningListVersion.id).where(
        ScreeningListVersion.list_id == list_id,
        ScreeningListVersion.id.not_in([v for v in (keep, but) if v is not None]),
    )
    db.session.execute(
        update(ScreeningListVersion)
        .where(ScreeningListVersion.id.in_(others), ScreeningListVersion.status == "loading")
        .values(status="failed")
    )
    db.session.commit()
    while True:
        ids = db.session.scalars(
            select(ScreeningEntry.id)
            .where(ScreeningEntry.list_id == list_id, ScreeningEntry.version_id.in_(others))
            .limit(BATCH)
        ).all()
        if not ids:
            return
        db.session.execute(delete(ScreeningEntry).where(ScreeningEntry.id.in_(ids)))
        _commit_batch()


def _fail(version_id: int) -> None:
    """A load that stopped: its version marked failed, its staged rows deleted."""
    version = db.session.get(ScreeningListVersion, version_id)
    version.status = "failed"
    db.session.commit()
    _drop_rows(
        version.list_id, keep=db.session.get(ScreeningList, version.list_id).current_version_id
    )


def _stage(path, file_format, mapping, list_id, version_id, previous_id, keys) -> dict:
    """Pass 2: write every entry of the new version, committing each BATCH; the diff against
    the previous version (new entries, changed entries, entries it dropped)."""
    old = {
        entry_id: (key, first, changed, caption)
        for entry_id, key, first, changed, caption in db.session.execute(
            select(
                ScreeningEntry.entry_id,
                ScreeningEntry.version_key,
                ScreeningEntry.first_version_id,
                ScreeningEntry.changed_version_id,
                ScreeningEntry.caption,
            ).where(ScreeningEntry.version_id == previous_id)
        )
    } if previous_id is not None else {}  # fmt: skip
    diff = {"added": [], "removed": [], "changed": [], "counts": dict.fromkeys(
        ("added", "removed", "changed"), 0)}  # fmt: skip
    rows = []

    def note(kind, entry_id, caption):
        diff["counts"][kind] += 1
        if len(diff[kind]) < DIFF_SAMPLE:
            diff[kind].append([entry_id, caption])

    for line, record in _records(path, file_format, mapping):
        if record is None:
            continue
        if isinstance(record, reader.RowError) or record.entry_id not in keys:
            raise ValidationError({f"line {line}": "the file changed while it was loaded"})
        key = keys[record.entry_id]
        row = _row(record, list_id, version_id, key) | {"version_id": version_id}
        previous = old.get(record.entry_id)
        if previous is None:
            row["first_version_id"] = version_id
            note("added", record.entry_id, record.caption)
        else:
            row["first_version_id"] = previous[1]
            if previous[0] != key:
                note("changed", record.entry_id, record.caption)
            else:
                row["changed_version_id"] = previous[2]
        rows.append(row)
        if len(rows) >= BATCH:
            db.session.execute(ScreeningEntry.__table__.insert(), rows)
            _commit_batch()
            rows = []
    if rows:
        db.session.execute(ScreeningEntry.__table__.insert(), rows)
        db.session.commit()
    for entry_id, (_key, _first, _changed, caption) in old.items():
        if entry_id not in keys:
            note("removed", entry_id, caption)
    return diff
