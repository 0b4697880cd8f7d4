"""``tollgate search reindex`` / ``apply`` / ``status``."""

import time

import click
from flask.cli import with_appcontext

search_group = click.Group("search", help="Search index.")


@search_group.command("reindex")
@click.option(
    "--backend",
    type=click.Choice(["whoosh", "postgres"]),
    default=None,
    help="Default: TOLLGATE_SEARCH_BACKEND (auto: postgres on PostgreSQL).",
)
@click.option("--type", "types", multiple=True, help="Only these record types (repeatable).")
@with_appcontext
def reindex_command(backend, types):
    """Rebuild the index from every domain's records. Stop the worker first with Whoosh."""
    from app.search import service

    started = time.perf_counter()
    counts = service.reindex(backend, types=list(types) or None)
    for record_type, n in counts.items():
        click.echo(f"{record_type:12} {n:8d}")
    name = backend or service.backend_name()
    click.echo(
        f"reindexed {sum(counts.values())} documents with {name}"
        f" in {time.perf_counter() - started:.1f}s"
    )


@search_group.command("apply")
@with_appcontext
def apply_command():
    """Apply the queued index updates now (what the worker does every 20 seconds)."""
    from app.search import service

    click.echo(f"applied {service.apply_index_queue()} updates")


@search_group.command("status")
@with_appcontext
def status_command():
    from app.search import service

    click.echo(
        f"backend {service.backend_name()}: {service.get_backend().count()} documents, "
        f"{service.queue_length()} queued updates"
    )
