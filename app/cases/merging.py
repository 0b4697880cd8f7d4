"""Merging duplicate cases: everything moves to the surviving case, nothing is deleted."""

from app.cases import fields
from app.cases.goods import refresh_totals
from app.cases.models import Case, CaseLink, JournalEntry
from app.cases.seizures import MOVEMENT_FIELDS
from app.cases.service import (
    _case_for_edit,
    _request_index,
    _require_open,
    journal,
)
from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security.access import Actor
from app.security.handling import combine_handling

# --- merging duplicates ----------------------------------------------------------------


_FILLABLE = (
    "summary",
    "place_type",
    "place",
    "place_ref",
    *MOVEMENT_FIELDS,
    "declaration_number",
    "legal_provision",
    "evaded_duties",
    "penalty",
    "audit_type",
    "period_start",
    "period_end",
    "findings",
    "assessed_debt",
    "referral",
    "assignee_id",
)


def _goods_key(item) -> tuple:
    return (
        item.commodity_area,
        item.hs_code or "",
        " ".join((item.description or "").casefold().split()),
        item.quantity,
        item.quantity_unit or "",
        item.value,
    )


def _check_pair(target: Case, duplicate: Case) -> None:
    if target.id == duplicate.id:
        raise ValidationError({"duplicate": "a case cannot be merged into itself"})
    if duplicate.merged_into_id is not None:
        raise ValidationError({"duplicate": f"{duplicate.reference} was already merged"})
    if target.merged_into_id is not None:
        raise ValidationError({"target": f"{target.reference} was itself merged into another"})
    if target.kind != duplicate.kind:
        raise ValidationError({"duplicate": "only cases of the same kind can be merged"})
    _require_open(target)


def _fill_fields(target: Case, duplicate: Case) -> list[str]:
    """Empty fields of the target take the duplicate's; returns the names filled."""
    filled = []
    for name in _FILLABLE:
        if getattr(target, name) in (None, "") and getattr(duplicate, name) not in (None, ""):
            setattr(target, name, getattr(duplicate, name))
            filled.append(name)
    if duplicate.summary and target.summary and duplicate.summary not in target.summary:
        target.summary += f"\n\n[from {duplicate.reference}] {duplicate.summary}"
    # The stricter handling code wins and both sets of conditions are kept: merged facts
    # keep their sharing conditions (the same rule as entity merges).
    combine_handling(target, duplicate)
    target.risk_areas = sorted(set(target.risk_areas or []) | set(duplicate.risk_areas or []))
    target.checklist = (target.checklist or []) + [
        row
        for row in (duplicate.checklist or [])
        if row["item"] not in {r["item"] for r in (target.checklist or [])}
    ]
    return filled


def _move_goods_and_tasks(target: Case, duplicate: Case) -> tuple[list, list]:
    """Goods and tasks move unless the target has them already (they stay on the closed
    duplicate, an open task cancelled with it); returns what stayed."""
    position = max((i.position for i in target.items), default=0)
    # The same goods recorded in both cases are one seizure, not two: a line equal to
    # one of the target's stays on the (closed) duplicate and is not counted twice.
    have_goods = {_goods_key(i) for i in target.items}
    kept_goods = []
    for item in list(duplicate.items):
        if _goods_key(item) in have_goods:
            kept_goods.append(item.description)
            continue
        position += 1
        item.position = position
        item.case = target
    # A task the target already has (the template's, or one written twice) is not
    # copied: it stays on the duplicate, cancelled with it.
    have_tasks = {t.title.strip().casefold() for t in target.tasks}
    kept_tasks = []
    for task in list(duplicate.tasks):
        if task.title.strip().casefold() in have_tasks:
            kept_tasks.append(task.title)
            if task.status == "open":
                task.status = "cancelled"
                task.completed_dt = now_utc()
            continue
        have_tasks.add(task.title.strip().casefold())
        task.case = target
    return kept_goods, kept_tasks


def _move_records(target: Case, duplicate: Case) -> tuple[list, list]:
    # Rows are re-parented (never removed then re-added: delete-orphan would drop them).
    with db.session.no_autoflush:
        kept = _move_goods_and_tasks(target, duplicate)
        have = {(p.entity_id, p.role) for p in target.parties}
        for party in list(duplicate.parties):
            if (party.entity_id, party.role) not in have:
                party.case = target  # else already there; the duplicate keeps its row
        for evidence in list(duplicate.evidence):
            evidence.case = target
        have_links = {(lk.target_type, lk.target_id) for lk in target.links}
        for link in list(duplicate.links):
            if (link.target_type, link.target_id) not in have_links and not (
                link.target_type == "case" and link.target_id == str(target.id)
            ):
                link.case = target
    for entry in list(duplicate.journal):
        db.session.add(
            JournalEntry(
                case=target,
                created_dt=entry.created_dt,
                author_id=entry.author_id,
                author_name=entry.author_name,
                kind=entry.kind,
                text=f"[from {duplicate.reference}] {entry.text}",
            )
        )
    refresh_totals(target)
    refresh_totals(duplicate)
    return kept


def _close_duplicate(target: Case, duplicate: Case, actor: Actor) -> None:
    duplicate.merged_into_id = target.id
    duplicate.status = "closed"
    duplicate.resolution = "duplicate"
    duplicate.closed_dt = now_utc()
    db.session.add(
        CaseLink(
            case=target,
            target_type="case",
            target_id=str(duplicate.id),
            label=duplicate.reference,
            note="merged duplicate",
            created_by_name=actor.username,
        )
    )


def merge_cases(target_id, duplicate_id, *, actor: Actor, note=None) -> Case:
    """Merge ``duplicate`` into ``target``: items, parties, tasks, evidence, links and a copy
    of the journal move over, empty fields are filled; the duplicate is closed as such and
    points to the target. Nothing is deleted."""
    # The same duplicate merged twice at once (or A into B while B goes into A) would move
    # its records twice: the second merge waits, then sees the first.
    lock_rows(Case, target_id, duplicate_id)
    target = _case_for_edit(target_id, actor)
    duplicate = _case_for_edit(duplicate_id, actor)
    _check_pair(target, duplicate)
    filled = _fill_fields(target, duplicate)
    kept_goods, kept_tasks = _move_records(target, duplicate)
    _close_duplicate(target, duplicate, actor)
    note = fields.text(note, "note", max_len=2000)
    journal(
        target,
        actor,
        "merge",
        f"Merged duplicate {duplicate.reference}"
        + (f"; filled {', '.join(filled)}" if filled else "")
        + (f"; goods already here not copied: {', '.join(kept_goods)}" if kept_goods else "")
        + (f"; tasks already here not copied: {', '.join(kept_tasks)}" if kept_tasks else "")
        + (f": {note}" if note else "."),
    )
    # Stored text is read by whoever opens the duplicate: it names no case (the seam rule);
    # the page names the target to each reader who may open it (cases.views.detail).
    journal(duplicate, actor, "merge", "Merged into another case as a duplicate.")
    _request_index(target)
    _request_index(duplicate)
    db.session.flush()
    return target
