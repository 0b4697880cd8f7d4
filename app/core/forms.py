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

A view does not catch ``ValidationError`` itself: tests/test_form_path.py names the few that do
(a GET page's query string, JSON endpoints) and why.
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
    error: ValidationError | None = None  # the service's refusal (a subclass says more)

    def __bool__(self) -> bool:
        return self.ok

    def first_errors(self) -> dict[str, str] | None:
        """Each field's (or row's) first message, for a page that lists them in a report of
        its own (an import); None when there are none."""
        return {key: messages[0] for key, messages in self.errors.items()} or None


def submit(
    form,
    action: Callable[[Any], Any],
    *,
    validate: bool = True,
    redirecting: bool = False,
    on_error: Callable[[], Any] | None = None,
    rename: Callable[[str], str] | None = None,
    label: Callable[[str], str] = str,
    show: bool = True,
) -> Submitted:
    """``action(form)`` when the form validates (CSRF included); see the module docstring.
    ``rename`` maps a service's error key to the form's path for it, where the two differ
    (``parties[0].new_entity.name`` -> ``parties[0].new_name``); ``label`` names a key in a
    message shown away from its field (``spaced``: ``evaded duties: ...``). ``show=False``
    leaves a service's messages to the page, which shows them its own way (an import's row
    report, the rule editor's paths): ``errors`` has them."""
    if validate and not form.validate_on_submit():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        if on_error is not None:
            on_error()
        if redirecting:
            flash_errors(errors, label=label)
        return Submitted(False, errors=errors)
    try:
        value = action(form)
    except ValidationError as exc:
        db.session.rollback()
        if on_error is not None:
            on_error()
        fields = {rename(k): v for k, v in exc.fields.items()} if rename else exc.fields
        if show and redirecting:
            flash_errors(fields, label=label)
        elif show:
            for message in attach_errors(form, fields, label=label):
                flash(message, "error")
        return Submitted(False, errors={k: [v] for k, v in fields.items()}, error=exc)
    return Submitted(True, value=value)


def gather(*checks: Callable[[], Any]) -> list:
    """Run every check and return their results; when any raised ``ValidationError``, raise
    one holding all their messages (the first for a key wins): a form shows every error at
    once, not one per round trip."""
    results, errors = [], {}
    for check in checks:
        try:
            results.append(check())
        except ValidationError as exc:
            results.append(None)
            errors.update({k: v for k, v in exc.fields.items() if k not in errors})
    if errors:
        raise ValidationError(errors)
    return results


def spaced(key: str) -> str:
    """A key as words in a message: ``evaded_duties`` -> ``evaded duties``."""
    return key.replace("_", " ")


def flash_errors(
    errors: dict | ValidationError, prefix: str = "", label: Callable[[str], str] = str
) -> None:
    """Each message as an error flash, named by its field or path (``items[0].hs_code: ...``)."""
    if isinstance(errors, ValidationError):
        errors = errors.fields
    for name, messages in errors.items():
        for message in [messages] if isinstance(messages, str) else messages:
            flash(f"{prefix}{label(name)}: {message}", "error")


def _field_for(form, key: str):
    """The form field a service's error key names, and whether the key named it whole:
    ``title``, ``items[1].quantity`` (a FieldList entry's subfield), ``parties.0.role``; a key
    reaching past a plain field (``entity_ids[2]``: one of the ids typed in it) lands on that
    field; (None, False) when the form has no such field or the key stops inside a row (the
    message is then shown above the form, named)."""
    target = form
    parts = key.replace("]", "").replace("[", ".").split(".")
    for n, part in enumerate(parts):
        if part.isdigit() and hasattr(target, "entries"):
            index = int(part)
            target = target.entries[index] if index < len(target.entries) else None
        else:
            target = getattr(getattr(target, "form", target), part, None)
        if target is None or not (hasattr(target, "errors") and hasattr(target, "label")):
            return None, False
        last = n == len(parts) - 1
        if hasattr(target, "entries"):  # a FieldList: its own errors only when named whole
            if last:
                return target, True
        elif not hasattr(target, "form"):  # a plain field (a FormField's errors are read-only)
            return target, last
    return None, False


def attach_errors(
    form, errors: dict[str, str] | ValidationError, label: Callable[[str], str] = str
) -> list[str]:
    """Put each message on the field it names (the ``field`` macro shows it there, with
    aria-invalid and aria-describedby); return the messages no field matches, named."""
    if isinstance(errors, ValidationError):
        errors = errors.fields
    loose = []
    for key, message in errors.items():
        target, whole = _field_for(form, key)
        if target is None:
            loose.append(f"{label(key)}: {message}")
            continue
        # WTForms keeps errors as a tuple until validate() runs: a list from here on.
        target.errors = [
            *list(target.errors or ()),
            message if whole else f"{label(key)}: {message}",
        ]
    return loose
