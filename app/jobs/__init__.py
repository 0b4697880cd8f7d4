"""The one scheduler process (``tollgate worker``) and the job registry domains add to."""


def init_app(app):
    from app.jobs import cli, models  # noqa: F401 - models register their tables

    cli.init_app(app)
