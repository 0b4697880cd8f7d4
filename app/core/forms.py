"""One form path for every domain's views: run the service call a submitted form asks for; a
``ValidationError`` rolls the request back and its messages go next to the fields they name.

    done = forms.submit(form, lambda f: service.create_feed(f.name.data, actor=g.actor))
    if done:
        flash("Feed added.", "info")
        return redirect(url_for(".feed", feed_id=done.value.id))
    return render_template("textmining/feed_form.html", form=form)

A view that redirects after the POST (the form is not shown again) passes ``redirecting=True``:
the messages are flashed instead, the form's own ones included. ``on_error`` runs after the
roll-back and before anything is shown, for a check that must come first (need-to-know: an
outsider learns nothing, not even that the form was wrong).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import flash

from app.core.errors import ValidationError
from app.extensions import db


@dataclass
class Submitted:
    """What ``submit`` did: ``value`` is the action's result when ``ok``; ``errors`` maps each
    field (or JSON path) to its messages otherwise."""

    ok: bool
    value: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


def submit(
    form,
    action: Callable[[Any], Any],
    *,
    validate: bool = True,
    redirecting: bool = False,
    on_error: Callable[[], Any] | None = None,
) -> Submitted:
    """``action(form)`` when the form validates (CSRF included); see the module docstring."""
    if validate and not form.validate_on_submit():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        if on_error is not None:
            on_error()
        if redirecting:
            flash_errors(errors)
        return Submitted(False, errors=errors)
    try:
        value = action(form)
    except ValidationError as exc:
        db.session.rollback()
        if on_error is not None:
            on_error()
        if redirecting:
            flash_errors(exc.fields)
        else:
            for message in attach_errors(form, exc.fields):
                flash(message, "error")
        return Submitted(False, errors={k: [v] for k, v in exc.fields.items()})
    return Submitted(True, value=value)


def flash_errors(errors: dict | ValidationError, prefix: str = "") -> None:
    """Each message as an error flash, named by its field or path (``items[0].hs_code: ...``)."""
    if isinstance(errors, ValidationError):
        errors = errors.fields
    for name, messages in errors.items():
        for message in [messages] if isinstance(messages, str) else messages:
            flash(f"{prefix}{name}: {message}", "error")


def _field_for(form, key: str):
    """The form field a service's error key names, and whether the key named it whole:
    ``title``, ``items[1].quantity`` (a FieldList entry's subfield), ``parties.0.role``; a key
    reaching past a plain field (``entity_ids[2]``: one of the ids typed in it) lands on that
    field; (None, False) when the form has no such field."""
    target, found = form, None
    parts = key.replace("]", "").replace("[", ".").split(".")
    for n, part in enumerate(parts):
        if part.isdigit() and hasattr(target, "entries"):
            index = int(part)
            target = target.entries[index] if index < len(target.entries) else None
        else:
            target = getattr(getattr(target, "form", target), part, None)
        if target is None:
            return found, False
        if hasattr(target, "errors") and hasattr(target, "label"):
            found = target
            if not hasattr(target, "entries") and not hasattr(target, "form"):
                return found, n == len(parts) - 1
    return found, True


def attach_errors(form, errors: dict[str, str] | ValidationError) -> list[str]:
    """Put each message on the field it names (the ``field`` macro shows it there, with
    aria-invalid and aria-describedby); return the messages no field matches, named."""
    if isinstance(errors, ValidationError):
        errors = errors.fields
    loose = []
    for key, message in errors.items():
        target, whole = _field_for(form, key)
        if target is None:
            loose.append(f"{key}: {message}")
            continue
        # WTForms keeps errors as a tuple until validate() runs: a list from here on.
        target.errors = [*list(target.errors or ()), message if whole else f"{key}: {message}"]
    return loose
