"""Request life cycle shared by every blueprint: who is signed in, one commit per request,
security headers, error pages, and the guards views use."""

import functools
from urllib.parse import urlsplit

from flask import (
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core import registry
from app.extensions import db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SESSION_KEY = "sid"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def safe_next_url(target: str | None, fallback: str = "/") -> str:
    """Only same-site relative paths: no scheme, no host, no protocol-relative tricks."""
    if not target:
        return fallback
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def current_actor():
    """The Actor of this request (set by the session or the API token)."""
    return g.get("actor")


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("security.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def permission_required(permission: str):
    """Sign-in plus one role permission; object-level checks stay in the services."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            g.actor.require(permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def background_request(view):
    """Mark a view the page calls by itself (the alert badge's poll): it answers for the
    signed-in user but is not their activity, so an unattended page still idles out."""
    view.tollgate_background = True
    return view


def _is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, "tollgate_background", False))


def _load_user():
    from app.security import service
    from app.security.access import Actor

    g.user = None
    g.actor = None
    if is_api_request() or request.endpoint == "static":
        return
    token = session.get(SESSION_KEY)
    row = (
        service.resolve_session(token, current_app.config, touch=not _is_background())
        if token
        else None
    )
    if token and row is None:
        session.clear()
        db.session.commit()  # persist the revocation of an expired session
    if row is not None:
        g.user = row.user
        g.actor = Actor.for_user(row.user, client_addr=request.remote_addr)


def _finish(response):
    # One commit per request: the view's changes and their trail rows land together.
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    client_id = g.pop("touch_api_client", None)
    if client_id is not None:
        _touch_api_client(client_id)
    _security_headers(response)
    return response


def _touch_api_client(client_id: int) -> None:
    """The API client's last-used time, after its request (app.security.service.touch_client);
    a failure to write it is logged and does not fail the request."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.security import service

    try:
        service.touch_client(client_id)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("could not record API client %s's last use", client_id)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype in ("text/html", "application/json", "text/csv"):
        # Sensitive pages must not linger in shared browser caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(status: int, message: str, fields: dict | None = None):
    """JSON for the API, an HTML page otherwise."""
    if is_api_request():
        body = {"error": {"status": status, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        response = jsonify(body)
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="tollgate"'
        return response
    return render_template("core/error.html", status=status, message=message), status


def _denied_actor():
    """Who was refused: the signed-in user, or the API client whose token lacked a scope."""
    from app.security import service
    from app.security.access import Actor

    if g.get("actor") is not None:
        return g.actor
    if is_api_request():
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        client = service.client_for_token(token) if token else None
        if client is not None:
            return Actor.for_client(client, (), client_addr=request.remote_addr)
    return None


def _record_refusal(exc):
    """A 403 (the role or token lacks the permission) is trailed as denied, like a 404 of
    need-to-know: what was asked for (path and query) and by whom."""
    from app.security import trail

    actor = _denied_actor()
    if actor is None:
        return
    # /cases/<case_id>/...: the record asked for, by the route's first "<type>_id" value.
    record_type, record_id = next(
        ((k[:-3], v) for k, v in (request.view_args or {}).items() if k.endswith("_id")),
        (None, None),
    )
    trail.record(
        actor,
        "view" if request.method in ("GET", "HEAD") else "update",
        record_type,
        record_id,
        outcome="denied",
        query=request.full_path.rstrip("?"),
        details={"endpoint": request.endpoint, "method": request.method, "reason": str(exc)},
    )
    db.session.commit()


def _handle_access_denied(exc):
    from app.security import trail

    db.session.rollback()
    if exc.trail_event is not None:
        # The rest of the request is undone, but the refusal itself must be on record.
        db.session.add(trail.copy_event(exc.trail_event))
        db.session.commit()
    elif exc.status == 403:
        _record_refusal(exc)
    if exc.status == 401 and not is_api_request():
        return redirect(url_for("security.login"))
    return error_response(exc.status, str(exc))


def _handle_validation(exc):
    db.session.rollback()
    return error_response(422, str(exc), fields=exc.fields)


def _handle_http(exc: HTTPException):
    db.session.rollback()
    if isinstance(exc, CSRFError):
        return error_response(
            400, "The form expired or was not sent by Tollgate; reload and try again."
        )
    return error_response(exc.code or 500, exc.description or exc.name)


def _handle_unexpected(exc):
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Something went wrong; the error was logged.")


def _template_context():
    actor = g.get("actor")
    items = []
    if g.get("user") is not None:
        for item in registry.nav_items(current_app):
            if item.permission is None or actor.can(item.permission):
                children = [c for c in item.children if c[2] is None or actor.can(c[2])]
                items.append((item, children))
    endpoints = {item.endpoint for item, _ in items} | {c[1] for _, cs in items for c in cs}
    return {"nav": items, "nav_endpoints": endpoints, "current_user": g.get("user"), "actor": actor}


def init_app(app):
    from app.core import views
    from app.core.errors import ValidationError
    from app.security.access import AccessDenied

    app.register_error_handler(ValidationError, _handle_validation)
    app.before_request(_load_user)
    app.after_request(_finish)
    app.register_error_handler(AccessDenied, _handle_access_denied)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
    app.context_processor(_template_context)
    app.register_blueprint(views.bp)
