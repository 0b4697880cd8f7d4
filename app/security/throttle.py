"""Throttling of failed sign-ins and failed API tokens, per client address (Flask-Limiter).

Sign-in is throttled in two layers, each where it holds:

* per account: the lockout in the database (``service.authenticate``), counted by one atomic
  UPDATE, so it holds across every gunicorn worker on SQLite and PostgreSQL alike;
* per client address: this module. Only *failed* attempts are counted (``deduct_when``), so an
  office behind one NAT address signing in all morning is never slowed down; an address that
  failed too often is answered 429 with Retry-After before its next password is even checked.
  The store is memory (each worker process counts for itself, so two workers let through up
  to twice the limit) or Redis when TOLLGATE_RATELIMIT_STORAGE_URI names one (shared by every
  worker and host). A failure is known only once its answer is ready, so the count is checked
  before an attempt and raised after it: attempts in flight at the same moment can overshoot
  it by their number (the per-account lockout above is exact).

The limiter is built per application, not as a module-level extension: Flask-Limiter keeps its
enabled flag and its store on the instance, and the tests and benchmarks build several apps
in one process.
"""

import math
import time

from flask import current_app, g, make_response, render_template, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from limits import parse_many

from app.core.web import error_response, is_api_request
from app.extensions import db

LIMITER_KEY = "tollgate_limiter"
#: the endpoint whose failed POSTs are counted
SIGN_IN_ENDPOINT = "security.login"


def init_app(app) -> None:
    """Build this app's limiter, limit the sign-in view and the API's bearer-token failures."""
    config = app.config
    enabled = config.get("TOLLGATE_RATELIMIT_ENABLED")
    if enabled is None:
        # Unset: on, except in an app built for the test suite, which signs in hundreds of
        # times from 127.0.0.1 (the throttle's own tests switch it on explicitly).
        enabled = not app.testing
    sign_in_limit = _checked_limit(config, "TOLLGATE_SIGNIN_FAILURE_LIMIT")
    api_limit = _checked_limit(config, "TOLLGATE_API_AUTH_FAILURE_LIMIT")
    limiter = Limiter(
        key_func=client_address,
        storage_uri=config["TOLLGATE_RATELIMIT_STORAGE_URI"],
        # An exact count of the failures of the last window (a fixed window would let twice
        # the limit through across a window boundary).
        strategy="moving-window",
        key_prefix="tollgate",
        # Redis down: count in this process's memory instead of failing every sign-in.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        application_limits=[
            ApplicationLimit(
                api_limit,
                scope="api-token-failures",
                exempt_when=lambda: not is_api_request(),
                deduct_when=_bearer_token_refused,
                error_message="Too many requests with a missing or invalid bearer token.",
            )
        ],
        enabled=enabled,
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    # Wrapped here rather than decorated in views.py: the decoration belongs to this app's
    # limiter, and the view function object is shared by every app of the process.
    app.view_functions[SIGN_IN_ENDPOINT] = limiter.limit(
        sign_in_limit,
        methods=["POST"],
        deduct_when=_sign_in_failed,
        error_message="Too many failed sign-in attempts from your address.",
    )(app.view_functions[SIGN_IN_ENDPOINT])
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)


def client_address() -> str:
    """The key the per-client limits count under. Behind a reverse proxy this is the proxy's
    address unless the proxy's X-Forwarded-For is trusted (werkzeug's ProxyFix)."""
    return request.remote_addr or "unknown"


def mark_sign_in_failed() -> None:
    """Called by the sign-in view when credentials were refused: this attempt counts."""
    g.sign_in_failed = True


def _sign_in_failed(_response) -> bool:
    return bool(g.get("sign_in_failed"))


def _bearer_token_refused(response) -> bool:
    # require_scope answers 401 for a missing, unknown or revoked token (403 is a valid token
    # lacking a scope: not a guess).
    return response.status_code == 401


def _checked_limit(config, key: str) -> str:
    value = config[key]
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {value!r} is not a rate limit such as '10/minute'") from exc
    return value


def retry_after_seconds() -> int:
    """Seconds until the breached limit lets the next attempt through (at least 1)."""
    current = current_app.extensions[LIMITER_KEY].current_limit
    try:
        reset_at = current.window.reset_time if current is not None else None
    except Exception:  # the store went away between the check and this answer
        reset_at = None
    if reset_at is None:
        return 60
    return max(1, math.ceil(reset_at - time.time()))


def _too_many_attempts(exc: RateLimitExceeded):
    db.session.rollback()
    wait = retry_after_seconds()
    if is_api_request():
        response = error_response(429, f"{exc.description} Retry after {wait} seconds.")
    else:
        body = render_template(
            "security/too_many_attempts.html", minutes=math.ceil(wait / 60), seconds=wait
        )
        response = (body, 429)
    response = make_response(response)
    response.headers["Retry-After"] = str(wait)
    return response
