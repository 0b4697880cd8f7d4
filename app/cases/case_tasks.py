"""Tasks of a case: add, assign, complete, the audit checklist, and an officer's own work
(open cases and tasks assigned to them, for the home page)."""

from datetime import date

from sqlalchemy import func, select

from app.cases import fields
from app.cases.models import Case, CaseTask
from app.cases.service import _case_for_edit, _new_task, _user, journal
from app.core import signals
from app.core.errors import ValidationError
from app.core.time import now_utc, today_utc
from app.extensions import db
from app.security.access import Actor


def add_task(
    case_id, title, *, actor: Actor, assignee_id=None, due_date=None, description=None
) -> CaseTask:
    case = _case_for_edit(case_id, actor)
    errors = {}
    try:
        title = fields.text(title, "title", max_len=300, required=True)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        due = fields.parse_date(due_date, "due_date")
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        assignee = _user(assignee_id, "assignee_id")
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    task = _new_task(
        case,
        actor,
        title,
        due_date=due,
        assignee=assignee,
        description=fields.text(description, "description", max_len=5000),
    )
    journal(
        case,
        actor,
        "task",
        f"Task added: {title}"
        + (f" (assigned to {assignee.username}, due {due})" if assignee else "")
        + ".",
    )
    return task


def _task(case, task_id) -> CaseTask:
    task = db.session.get(CaseTask, fields.integer(task_id, "task_id", required=True))
    if task is None or task.case_id != case.id:
        raise ValidationError({"task_id": "no such task in this case"})
    return task


def assign_task(case_id, task_id, assignee_id, *, actor: Actor) -> CaseTask:
    case = _case_for_edit(case_id, actor)
    task = _task(case, task_id)
    assignee = _user(assignee_id, "assignee_id")
    task.assignee_id = assignee.id if assignee else None
    journal(
        case,
        actor,
        "task",
        f"Task “{task.title}” assigned to {assignee.username if assignee else 'nobody'}.",
    )
    db.session.flush()
    if assignee is not None:
        signals.task_assigned.send(None, task=task, assignee=assignee, actor=actor)
    return task


def complete_task(case_id, task_id, *, actor: Actor, status="done") -> CaseTask:
    case = _case_for_edit(case_id, actor)
    task = _task(case, task_id)
    status = fields.choice(
        status, "status", {"done": "Done", "cancelled": "Cancelled", "open": "Open"}, required=True
    )
    task.status = status
    task.completed_dt = None if status == "open" else now_utc()
    journal(case, actor, "task", f"Task “{task.title}” marked {status}.")
    db.session.flush()
    return task


def set_checklist(case_id, done_items, *, actor: Actor) -> Case:
    """Tick audit checklist items (by position); the rest are unticked."""
    case = _case_for_edit(case_id, actor)
    done = {fields.integer(i, "checklist", minimum=0) for i in done_items}
    case.checklist = [
        {"item": row["item"], "done": n in done} for n, row in enumerate(case.checklist or [])
    ]
    journal(case, actor, "edit", f"Checklist: {len(done)} of {len(case.checklist)} done.")
    db.session.flush()
    return case


# --- the home panel ----------------------------------------------------------------


def my_work(actor: Actor, limit=10) -> dict:
    """Open cases assigned to the actor and their open tasks (for the home page)."""
    from app.security.access import visible_clause

    cases = db.session.scalars(
        select(Case)
        .where(
            Case.assignee_id == actor.user_id, Case.status != "closed", visible_clause(actor, Case)
        )
        .order_by(Case.priority.desc(), Case.event_dt.desc())
        .limit(limit)
    ).all()
    tasks = db.session.execute(
        select(CaseTask, Case.reference, Case.id)
        .join(Case, Case.id == CaseTask.case_id)
        .where(
            CaseTask.assignee_id == actor.user_id,
            CaseTask.status == "open",
            visible_clause(actor, Case),
        )
        .order_by(func.coalesce(CaseTask.due_date, date(9999, 12, 31)), CaseTask.id)
        .limit(limit)
    ).all()
    return {"cases": cases, "tasks": tasks, "today": today_utc()}
