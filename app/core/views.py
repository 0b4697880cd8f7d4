"""The shell: home page per role, health check, OpenAPI description."""

from flask import Blueprint, current_app, g, jsonify, render_template

from app.core import openapi, registry
from app.core.web import login_required

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    """Each domain contributes a panel (open alerts, assigned cases, tasks ...)."""
    panels = []
    for panel in registry.home_panels(current_app):
        if panel.permission and not g.actor.can(panel.permission):
            continue
        data = panel.build(g.actor)
        if data is not None:
            panels.append((panel, data))
    return render_template("core/home.html", panels=panels)


@bp.get("/healthz")
def health():
    return jsonify(status="ok")


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(openapi.build_spec(current_app))
