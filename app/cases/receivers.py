"""The cases domain's answers to other domains' signals (``app.core.signals``).

* ``control_result_seizure``: a control found goods to seize. A seizure case prefilled from
  the declaration opens in the unit the risk domain names (the declaration office's, else the
  recorder's), once per declaration; the receiver returns its id, which the risk domain keeps
  on the control result.
* ``control_result_recorded``: a correction that changes the seizure finding of a result
  that has a seizure case is written on that case's journal (the case stays: a case is closed
  by its unit, never by a correction).

Opening the case is the cases domain's own rule, so it acts as itself, a system actor in that
unit named after the recorder, rather than lending the recording officer case permissions
they do not hold. Receivers run in the sender's transaction and do not commit.
"""

import logging
from dataclasses import replace

from app.core import signals
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor, NotFound

log = logging.getLogger(__name__)


def _agent(actor: Actor | None, unit_id: int | None) -> Actor:
    name = actor.username if actor is not None else "system"
    agent = Actor.system(f"cases: seizure from the control recorded by {name}")
    return replace(agent, unit_id=unit_id, user_id=getattr(actor, "user_id", None))


def on_control_result_seizure(
    sender, declaration_ref=None, unit_ids=(), actor=None, **_
) -> int | None:
    from app.cases.from_control import open_seizure_from_control

    if declaration_ref is None:
        return None
    unit_id = next(iter(unit_ids), None)
    case = open_seizure_from_control(declaration_ref, actor=_agent(actor, unit_id))
    return case.id


def on_control_result_recorded(
    sender,
    declaration=None,
    result=None,
    seizure_changed=False,
    reason=None,
    unit_ids=(),
    actor=None,
    **_,
) -> None:
    from app.cases.service import add_journal_entry

    if not seizure_changed or result is None or result.seizure_case_id is None:
        return
    seized = "goods seized" if result.is_goods_seized else "no seizure"
    text = (
        f"The control result of declaration {declaration.number} was corrected (version "
        f"{result.version}): {seized}. Reason: {reason}. This case stays open until its unit "
        "decides; the earlier version is kept on the declaration."
    )
    for unit_id in unit_ids:
        try:
            with db.session.begin_nested():
                add_journal_entry(result.seizure_case_id, text, actor=_agent(actor, unit_id))
            return
        except (NotFound, ValidationError):
            continue
    log.warning(
        "control correction of declaration %s: seizure case %s could not be noted",
        declaration.number,
        result.seizure_case_id,
    )


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver)."""
    signals.control_result_seizure.connect(on_control_result_seizure, weak=False)
    signals.control_result_recorded.connect(on_control_result_recorded, weak=False)
