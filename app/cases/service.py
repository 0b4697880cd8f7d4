"""Case logic: open, read, edit, workflow, items, parties, tasks, journal, links, decisions.

Functions take plain arguments and the acting ``Actor``; they flush, never commit. Every
access to a case writes exactly one access-trail row (``get_for`` writes it).
"""

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.cases import catalog, fields, goods, places
from app.cases.models import (
    Case,
    CaseLink,
    CaseSequence,
    CaseTask,
    JournalEntry,
    SeizureItem,
)
from app.core import signals
from app.core.database import lock_rows, valid_id
from app.core.errors import ValidationError
from app.core.params import whole_number
from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.access import Actor, NotFound, get_for
from app.security.models import Unit, User

# --- references ----------------------------------------------------------------------


def next_reference(unit: Unit, year: int) -> str:
    """Hand out the next ``UNIT/YEAR/00001`` number; safe when two requests open cases at
    once (the counter row is updated in place, which serialises writers on both backends)."""
    for _attempt in range(5):
        result = db.session.execute(
            update(CaseSequence)
            .where(CaseSequence.unit_id == unit.id, CaseSequence.year == year)
            .values(last_value=CaseSequence.last_value + 1)
            .returning(CaseSequence.last_value)
        ).first()
        if result is not None:
            return f"{unit.code}/{year}/{result[0]:05d}"
        # First case of this unit this year: create the counter; a concurrent creator
        # makes our insert fail on the unique constraint, and we retry the update.
        try:
            with db.session.begin_nested():
                db.session.add(CaseSequence(unit_id=unit.id, year=year, last_value=1))
            return f"{unit.code}/{year}/{1:05d}"
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a case reference")


# --- small helpers -------------------------------------------------------------------


def journal(case: Case, actor: Actor, kind: str, text: str) -> JournalEntry:
    entry = JournalEntry(
        case=case, author_id=actor.user_id, author_name=actor.username, kind=kind, text=text
    )
    db.session.add(entry)
    return entry


def _request_index(case: Case) -> None:
    signals.search_index_requested.send(record_type="case", record_id=case.id)


def _user(user_id, name) -> User | None:
    if fields.blank(user_id):
        return None
    uid = fields.integer(user_id, name, minimum=1)
    user = db.session.get(User, uid)
    if user is None or not user.is_active:
        raise ValidationError({name: "no active user with this id"})
    return user


def _require_open(case: Case) -> None:
    if case.is_closed:
        raise ValidationError({"status": f"case {case.reference} is closed; reopen it first"})


#: editable fields: name -> parser(value, name)
_FIELD_PARSERS = {
    "title": lambda v, n: fields.text(v, n, max_len=300, required=True),
    "summary": lambda v, n: fields.text(v, n, max_len=20000),
    "priority": lambda v, n: fields.integer(v, n, required=True, minimum=1, maximum=4),
    "handling_conditions": lambda v, n: fields.text(v, n, max_len=2000),
    "event_dt": lambda v, n: fields.not_future(fields.parse_datetime(v, n), n),
    "place_type": lambda v, n: fields.choice(v, n, catalog.PLACE_TYPES),
    "place": lambda v, n: fields.text(v, n, max_len=120),
    "place_ref": lambda v, n: places.parse(v, n),
    "direction": lambda v, n: fields.choice(v, n, catalog.DIRECTIONS),
    "transport_mode": lambda v, n: fields.choice(v, n, catalog.TRANSPORT_MODES),
    "conveyance": lambda v, n: fields.text(v, n, max_len=200),
    "route_origin": lambda v, n: fields.country(v, n),
    "route_transit": lambda v, n: fields.text(v, n, max_len=200),
    "route_destination": lambda v, n: fields.country(v, n),
    "detection_method": lambda v, n: fields.choice(v, n, catalog.DETECTION_METHODS),
    "concealment_method": lambda v, n: fields.choice(v, n, catalog.CONCEALMENT_METHODS),
    "declaration_number": lambda v, n: fields.text(v, n, max_len=60),
    "legal_provision": lambda v, n: fields.text(v, n, max_len=300),
    "evaded_duties": lambda v, n: fields.decimal(v, n),
    "penalty": lambda v, n: fields.decimal(v, n),
    "audit_type": lambda v, n: fields.choice(v, n, catalog.AUDIT_TYPES),
    "risk_areas": lambda v, n: fields.choices_list(v, n, catalog.RISK_AREAS),
    "period_start": lambda v, n: fields.parse_date(v, n),
    "period_end": lambda v, n: fields.parse_date(v, n),
    "audit_plan": lambda v, n: fields.text(v, n, max_len=20000),
    "findings": lambda v, n: fields.text(v, n, max_len=20000),
    "assessed_debt": lambda v, n: fields.decimal(v, n),
    "referral": lambda v, n: fields.text(v, n, max_len=300),
    "external_ref": lambda v, n: _external_ref(v, n),
}
EDITABLE_FIELDS = tuple(_FIELD_PARSERS)
_DECISION_INPUTS = ("evaded_duties", "penalty")

#: ``external_ref`` namespaces the system assigns, each owned by one code path that finds
#: cases by it: ``declaration:<id>`` (a seizure opened from a control result, reused when the
#: result comes again), ``import:<ref>`` and ``csv:<hash>`` (a CSV import's duplicate check).
#: Forms, the API and other callers may not write them, or another unit's case could capture
#: the key.
RESERVED_REF_PREFIXES = ("declaration:", "import:", "csv:")


def is_reserved_ref(value) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(RESERVED_REF_PREFIXES)


def _external_ref(value, name):
    value = fields.text(value, name, max_len=120)
    if is_reserved_ref(value):
        prefixes = " or ".join(RESERVED_REF_PREFIXES)
        raise ValidationError({name: f"may not start with {prefixes} (assigned by the system)"})
    return value


def _parse_fields(values: dict) -> dict:
    """Validate every given field, collecting all errors at once."""
    parsed, errors = {}, {}
    for name, raw in values.items():
        parser = _FIELD_PARSERS.get(name)
        if parser is None:
            errors[name] = "is not a case field"
            continue
        try:
            parsed[name] = parser(raw, name)
        except ValidationError as exc:
            errors.update(exc.fields)
    places.apply(parsed)  # a place from the reference list names the place and its type
    start, end = parsed.get("period_start"), parsed.get("period_end")
    if start and end and end < start:
        errors["period_end"] = "must not be before the start of the period"
    if errors:
        raise ValidationError(errors)
    return parsed


def _set_handling(case: Case, handling_code, conditions=None) -> None:
    code = fields.choice(handling_code or "P", "handling_code", {"P": "P", "C": "C"}, required=True)
    case.handling_code = code.upper()
    if conditions is not None:
        case.handling_conditions = conditions


# --- opening cases ---------------------------------------------------------------------


def _check_opening(
    kind, actor, *, values, items, unit_id, template, assignee_id, status, resolution
) -> dict:
    """Everything ``open_case`` is given, checked at once: one ValidationError naming every
    field at fault, or the parsed fields, items, unit, template, assignee and status."""
    errors = {}
    try:
        parsed = _parse_fields(values)
    except ValidationError as exc:
        errors.update(exc.fields)
        parsed = {}
    try:
        parsed_items = goods.parse_items(items if items else [])
    except ValidationError as exc:
        errors.update(exc.fields)
        parsed_items = []
    unit_id = unit_id if unit_id is not None else actor.unit_id
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        errors["unit_id"] = "is required (no such unit)"
    elif not actor.is_system and unit.id != actor.unit_id:
        errors["unit_id"] = "cases can only be opened for your own unit"
    template = template or catalog.DEFAULT_TEMPLATE[kind]
    if template not in catalog.TEMPLATES or catalog.TEMPLATES[template]["kind"] != kind:
        errors["template"] = f"no {kind} template named {template!r}"
    try:
        assignee = _user(assignee_id, "assignee_id")
    except ValidationError as exc:
        errors.update(exc.fields)
        assignee = None
    try:
        status = fields.choice(status, "status", catalog.STATUSES, required=True)
        if status == "closed":
            resolution = fields.choice(
                resolution, "resolution", catalog.RESOLUTIONS[kind], required=True
            )
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return {
        "fields": parsed,
        "items": parsed_items,
        "unit": unit,
        "template": template,
        "assignee": assignee,
        "status": status,
        "resolution": resolution,
    }


def _first_tasks_and_journal(case, actor, opened, *, assignee, with_tasks, journal_text):
    """The template's checklist and tasks (due from the opening date) and the first entry."""
    kind = case.kind
    spec = catalog.TEMPLATES[case.template]
    if kind == "audit" and not case.checklist:
        case.checklist = [{"item": text, "done": False} for text in spec["checklist"]]
    db.session.flush()
    today = opened.date()
    for task_title, due_days in spec["tasks"] if with_tasks else ():
        _new_task(
            case, actor, task_title, due_date=today + timedelta(days=due_days), assignee=assignee
        )
    journal(
        case,
        actor,
        "system",
        journal_text or f"{catalog.KINDS[kind]} case opened ({spec['label']}) by {actor.username}.",
    )


def open_case(
    kind,
    *,
    actor: Actor,
    title,
    unit_id=None,
    handling_code="P",
    handling_conditions=None,
    template=None,
    assignee_id=None,
    items=(),
    opened_dt=None,
    journal_text=None,
    with_tasks=True,
    status="open",
    resolution=None,
    **values,
) -> Case:
    """Open a case of ``kind`` with its reference, template tasks and first journal entry.

    ``values`` are any of ``EDITABLE_FIELDS``; ``items`` seizure items (dicts).
    """
    actor.require("case.create")
    kind = fields.choice(kind, "kind", catalog.KINDS, required=True)
    opening = _check_opening(
        kind,
        actor,
        values={"title": title, **values},
        items=items,
        unit_id=unit_id,
        template=template,
        assignee_id=assignee_id,
        status=status,
        resolution=resolution,
    )
    unit, template, assignee = opening["unit"], opening["template"], opening["assignee"]
    status, resolution = opening["status"], opening["resolution"]

    opened = fields.parse_datetime(opened_dt, "opened_dt") or now_utc()
    case = Case(
        kind=kind,
        unit_id=unit.id,
        status=status,
        template=template,
        resolution=resolution if status == "closed" else None,
        closed_dt=opened if status == "closed" else None,
        created_by_id=actor.user_id,
        created_by_name=actor.username,
        opened_dt=opened,
        assignee_id=assignee.id if assignee else None,
    )
    _set_handling(case, handling_code, handling_conditions)
    for name, value in opening["fields"].items():
        setattr(case, name, value)
    if case.event_dt is None:
        case.event_dt = opened
    case.reference = next_reference(unit, opened.year)
    db.session.add(case)
    goods.append_items(case, opening["items"])
    _first_tasks_and_journal(
        case, actor, opened, assignee=assignee, with_tasks=with_tasks, journal_text=journal_text
    )
    db.session.flush()
    trail.record(actor, "create", "case", case.id, details={"reference": case.reference})
    _request_index(case)
    return case


def open_with_reserved_ref(ref: str | None, kind, *, actor: Actor, **kwargs) -> Case:
    """``open_case`` for the code paths that own a reserved ``external_ref`` namespace
    (``RESERVED_REF_PREFIXES``): the key is set here, after validation, never from input."""
    case = open_case(kind, actor=actor, **kwargs)
    if ref is not None:
        case.external_ref = ref
        db.session.flush()
    return case


def _new_task(case, actor, title, *, due_date=None, assignee=None, description=None):
    task = CaseTask(
        case=case,
        title=title,
        due_date=due_date,
        description=description,
        assignee_id=assignee.id if assignee else None,
    )
    db.session.add(task)
    db.session.flush()
    if assignee is not None:
        signals.task_assigned.send(None, task=task, assignee=assignee, actor=actor)
    return task


def open_audit_case(
    trader_entity_id,
    *,
    actor: Actor,
    audit_type="desk",
    risk_areas=(),
    period_start=None,
    period_end=None,
    title=None,
    unit_id=None,
) -> Case:
    """Open a post-clearance audit case for a trader; its first task is the desk review."""
    from app.intel import service as intel

    entity_id = fields.integer(trader_entity_id, "trader_entity_id", required=True, minimum=1)
    trader = intel.get_entity(entity_id, actor=actor)
    case = open_case(
        "audit",
        actor=actor,
        unit_id=unit_id,
        title=title or f"Post-clearance audit: {trader.name}",
        audit_type=audit_type,
        risk_areas=list(risk_areas or ()),
        period_start=period_start,
        period_end=period_end,
        template="audit",
    )
    case.trader_entity_id = trader.id
    case.trader_name = trader.name
    from app.cases.parties import _attach_party

    _attach_party(case, trader, "trader", actor)
    return case


# --- reading -------------------------------------------------------------------------


def get_case(case_id, *, actor: Actor, action="view", log=True) -> Case:
    """A case the actor may see (need-to-know), with the access in the trail."""
    return get_for(actor, Case, case_id, permission="case.view", action=action, log=log)


def case_for_reference(ref, *, actor: Actor, field: str, id_allowed=False) -> Case:
    """The case a form names by reference (``UNIT/YEAR/00001``, or its id when
    ``id_allowed``), for the actor to change. A reference that names no case and one outside
    the actor's need-to-know get the same answer, a ``ValidationError`` on ``field``: the
    form must not tell which references exist in other units."""
    ref = str(ref or "").strip()
    case_id = None
    if id_allowed and valid_id(whole_number(ref)):  # an id a row can have; "²" is no digit
        case_id = int(ref)
    elif ref:
        case_id = db.session.scalar(select(Case.id).where(Case.reference == ref))
    try:
        if case_id is None:
            raise NotFound()
        # Not logged here: the change the caller makes next writes the case's trail row (a
        # refusal is still recorded as denied by get_for).
        return _case_for_edit(case_id, actor, log=False)
    except NotFound:
        raise ValidationError({field: f"no case {ref!r} that you may edit"}) from None


def _case_for_edit(case_id, actor: Actor, *, log=True) -> Case:
    actor.require("case.edit")
    return get_for(actor, Case, case_id, permission="case.edit", action="update", log=log)


# --- editing -------------------------------------------------------------------------


def update_case(case_id, *, actor: Actor, handling_code=None, assignee_id=None, **values) -> Case:
    """Change case fields; the journal lists what changed."""
    case = _case_for_edit(case_id, actor)
    if is_reserved_ref(case.external_ref) and "external_ref" in values:
        # A system-assigned key stays: an edit form sends it back unchanged, and any other
        # value would detach the case from the declaration or import it stands for.
        sent = values.pop("external_ref")
        if (str(sent).strip() if sent is not None else None) != case.external_ref:
            raise ValidationError({"external_ref": "is assigned by the system; it cannot change"})
    parsed = _parse_fields(values)
    if "event_dt" in parsed and parsed["event_dt"] is None:  # was a 500 (NOT NULL)
        raise ValidationError({"event_dt": "is required (the date and time of the facts)"})
    changed, old = [], {}
    for name, value in parsed.items():
        if getattr(case, name) != value:
            old[name] = getattr(case, name)
            setattr(case, name, value)
            changed.append(name)
    if handling_code is not None and handling_code != case.handling_code:
        _set_handling(case, handling_code)
        changed.append("handling_code")
    if assignee_id is not None:
        _assign(case, actor, assignee_id)
    if changed:
        journal(case, actor, "edit", "Changed: " + ", ".join(changed) + ".")
        from app.cases.offences import rerun_threshold

        # a decided case's evaded duties changed: the threshold rule decides again
        rerun_threshold(case, actor, {k: v for k, v in old.items() if k in _DECISION_INPUTS})
        _request_index(case)
    db.session.flush()
    return case


def _assign(case, actor, assignee_id):
    assignee = _user(assignee_id, "assignee_id") if assignee_id not in (0, "0", "") else None
    new_id = assignee.id if assignee else None
    if new_id == case.assignee_id:
        return
    case.assignee_id = new_id
    journal(
        case,
        actor,
        "edit",
        f"Assigned to {assignee.username}." if assignee else "Assignee removed.",
    )
    if assignee is not None:
        db.session.flush()
        signals.case_assigned.send(None, case=case, assignee=assignee, actor=actor)


def assign_case(case_id, assignee_id, *, actor: Actor) -> Case:
    case = _case_for_edit(case_id, actor)
    _assign(case, actor, assignee_id)
    db.session.flush()
    return case


def change_status(case_id, status, *, actor: Actor, resolution=None, note=None) -> Case:
    """Move a case along the workflow; closing needs ``case.decide`` and a resolution."""
    lock_rows(Case, case_id)  # two officers moving it at once: the second sees the first
    case = _case_for_edit(case_id, actor)
    status = fields.choice(status, "status", catalog.STATUSES, required=True)
    if status == case.status:
        raise ValidationError({"status": f"the case is already {catalog.STATUSES[status]}"})
    if status not in catalog.TRANSITIONS[case.status]:
        raise ValidationError(
            {
                "status": f"cannot go from {catalog.STATUSES[case.status]} to "
                f"{catalog.STATUSES[status]}"
            }
        )
    if status == "closed" or case.status == "closed":
        actor.require("case.decide")
    text = f"Status: {catalog.STATUSES[case.status]} → {catalog.STATUSES[status]}"
    if status == "closed":
        resolution = fields.choice(
            resolution, "resolution", catalog.RESOLUTIONS[case.kind], required=True
        )
        case.resolution = resolution
        case.closed_dt = now_utc()
        text += f" ({catalog.RESOLUTIONS[case.kind][resolution]})"
    else:
        case.resolution = None
        case.closed_dt = None
    case.status = status
    note = fields.text(note, "note", max_len=5000)
    journal(case, actor, "status", text + (f": {note}" if note else "."))
    _request_index(case)
    db.session.flush()
    return case


def add_items(case_id, items, *, actor: Actor) -> list[SeizureItem]:
    case = _case_for_edit(case_id, actor)
    _require_open(case)
    parsed = goods.parse_items(list(items) if isinstance(items, list | tuple) else items)
    if not parsed:
        raise ValidationError({"items": "at least one item is required"})
    if len(case.items) + len(parsed) > goods.MAX_ITEMS:
        raise ValidationError({"items": f"at most {goods.MAX_ITEMS} items per case"})
    rows = goods.append_items(case, parsed)
    journal(
        case,
        actor,
        "item",
        "Items added: "
        + "; ".join(f"{catalog.COMMODITY_AREAS[r.commodity_area]} — {r.description}" for r in rows),
    )
    _request_index(case)
    db.session.flush()
    return rows


def add_journal_entry(case_id, text, *, actor: Actor) -> JournalEntry:
    case = _case_for_edit(case_id, actor)
    text = fields.text(text, "text", max_len=20000, required=True)
    entry = journal(case, actor, "note", text)
    db.session.flush()
    return entry


# --- links -----------------------------------------------------------------------------


def add_link(case_id, target_type, target_id, *, actor: Actor, note=None) -> CaseLink:
    """Link a declaration, an intelligence report or another case (by reference or id)."""
    case = _case_for_edit(case_id, actor)
    target_type = fields.choice(target_type, "target_type", catalog.LINK_TYPES, required=True)
    target = fields.text(target_id, "target_id", max_len=64, required=True)
    label = target
    if target_type == "case":
        other = db.session.scalar(select(Case).where(Case.reference == target))
        if other is None and (target_number := valid_id(whole_number(target))):
            other = db.session.get(Case, target_number)
        if other is None:
            raise ValidationError({"target_id": f"no case {target}"})
        other = get_case(other.id, actor=actor)
        if other.id == case.id:
            raise ValidationError({"target_id": "a case cannot be linked to itself"})
        target, label = str(other.id), other.reference
    exists = db.session.scalar(
        select(CaseLink).where(
            CaseLink.case_id == case.id,
            CaseLink.target_type == target_type,
            CaseLink.target_id == target,
        )
    )
    if exists:
        raise ValidationError({"target_id": "already linked"})
    link = CaseLink(
        case=case,
        target_type=target_type,
        target_id=target,
        label=label,
        note=fields.text(note, "note", max_len=500),
        created_by_name=actor.username,
    )
    db.session.add(link)
    journal(case, actor, "link", f"Linked {catalog.LINK_TYPES[target_type].lower()} {label}.")
    db.session.flush()
    return link
