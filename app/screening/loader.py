"""Loading a version of a list: check the whole file, then store what it adds, removes, changes.

A file is read twice from disk. The first pass checks every line (the FtM model's schemata and
properties, or the CSV mapping's columns) and keeps only each entry's id and version key; a
single wrong line refuses the file before anything is written. The second pass writes the
entries that are new or changed in batches and deletes the ones the new version dropped, all in
the caller's transaction, so a failure leaves the previous version in place.
"""

import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select, update

from app.core.errors import ValidationError
from app.extensions import db
from app.screening import reader
from app.screening.models import ScreeningEntry, ScreeningList, ScreeningListVersion
from app.security import trail

BATCH = 2000
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
    diff = _store(path, file_format, mapping, lst.id, version.id, keys)
    version.entry_count = len(keys)
    version.added, version.removed, version.changed = (diff["counts"][k] for k in
                                                       ("added", "removed", "changed"))  # fmt: skip
    version.diff = {k: diff[k] for k in ("added", "removed", "changed")}
    lst.current_version_id = version.id
    db.session.flush()
    trail.record(
        actor, "update", "screening_list", lst.id,
        details={"version": version.id, "entries": len(keys), "added": version.added,
                 "removed": version.removed, "changed": version.changed},
    )  # fmt: skip
    return version


def _store(path, file_format, mapping, list_id, version_id, keys) -> dict:
    """Pass 2: insert the new, update the changed, delete the dropped entries."""
    old = {
        entry_id: (row_id, key, caption)
        for row_id, entry_id, key, caption in db.session.execute(
            select(
                ScreeningEntry.id,
                ScreeningEntry.entry_id,
                ScreeningEntry.version_key,
                ScreeningEntry.caption,
            ).where(ScreeningEntry.list_id == list_id)
        )
    }
    diff = {"added": [], "removed": [], "changed": [], "counts": dict.fromkeys(
        ("added", "removed", "changed"), 0)}  # fmt: skip
    inserts, updates = [], []

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
        previous = old.get(record.entry_id)
        if previous is None:
            inserts.append(
                _row(record, list_id, version_id, key) | {"first_version_id": version_id}
            )
            note("added", record.entry_id, record.caption)
        elif previous[1] != key:
            updates.append(_row(record, list_id, version_id, key) | {"id": previous[0]})
            note("changed", record.entry_id, record.caption)
        if len(inserts) >= BATCH:
            db.session.execute(ScreeningEntry.__table__.insert(), inserts)
            inserts = []
        if len(updates) >= BATCH:
            db.session.execute(update(ScreeningEntry), updates)
            updates = []
    if inserts:
        db.session.execute(ScreeningEntry.__table__.insert(), inserts)
    if updates:
        db.session.execute(update(ScreeningEntry), updates)
    gone = [(entry_id, v[0], v[2]) for entry_id, v in old.items() if entry_id not in keys]
    for entry_id, _row_id, caption in gone:
        note("removed", entry_id, caption)
    for start in range(0, len(gone), BATCH):
        ids = [row_id for _e, row_id, _c in gone[start : start + BATCH]]
        db.session.execute(delete(ScreeningEntry).where(ScreeningEntry.id.in_(ids)))
    return diff
