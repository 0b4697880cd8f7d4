"""Tollgate application factory."""

import importlib
import logging
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.config import ROOT, build_config
from app.core.json_input import TollgateRequest
from app.core.params import refuse_nul
from app.extensions import csrf, db, migrate

#: Domain packages, in registration order. Each exposes ``init_app(app)``.
DOMAINS = (
    "app.security",
    "app.search",
    "app.cases",
    "app.intel",
    "app.exchange",
    "app.reference",
    "app.screening",
    "app.risk",
    "app.alerts",
    "app.audit",
    "app.textmining",
    "app.jobs",
    "app.ops",
)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to what every id column of every backend can hold."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Build the WSGI application; ``config`` overrides settings (tests)."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Ids beyond a signed 32-bit integer name no record (PostgreSQL INTEGER): 404, not 500.
    app.url_map.converters["int"] = BoundedIntConverter
    # Every JSON body is size-, depth- and Unicode-checked before it is parsed.
    app.request_class = TollgateRequest
    # NUL in a query or form value: a 422 naming it, before any view or query sees it.
    app.before_request(refuse_nul)
    app.config.update(build_config(instance_path))
    if config:
        app.config.update(config)
    instance_path.mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_domains(app)
    configure_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.core import database

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    database.init_app(app)


def register_domains(app: Flask) -> None:
    from app.cli import register_commands
    from app.core import web

    web.init_app(app)
    register_commands(app)
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
