"""``tollgate feeds …`` and ``tollgate textmining …`` commands."""

import json
import sys
import time
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.extensions import db

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".feed"}


@click.group("feeds")
def feeds_group():
    """News feeds: import saved documents, poll."""


def _documents(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and (p.suffix.lower() in FEED_SUFFIXES))


@feeds_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--feed",
    "feed_id",
    type=int,
    default=None,
    help="Attach the articles to this feed (default: an offline pseudo-feed).",
)
@click.option("--quiet", is_flag=True, help="Print only the summary and rejections.")
@with_appcontext
def import_command(path, feed_id, quiet):
    """Import a saved feed document, or every feed document under a directory."""
    from app.textmining import feeds
    from app.textmining.extraction import get_extractor
    from app.textmining.ingest import Grouper
    from app.textmining.models import Feed

    feed = db.session.get(Feed, feed_id) if feed_id else feeds.offline_feed()
    if feed is None:
        raise click.BadParameter(f"no feed with id {feed_id}", param_hint="--feed")
    db.session.commit()
    extractor = get_extractor()
    grouper = Grouper()  # one near-duplicate index for the whole run
    counts = {"stored": 0, "rejected": 0, "new": 0}
    started = time.monotonic()
    for doc in _documents(path):
        outcome = feeds.import_file(doc, feed=feed, extractor=extractor, grouper=grouper)
        db.session.commit()
        counts[outcome.status] += 1
        counts["new"] += outcome.new
        if not quiet or outcome.status == "rejected":
            click.echo(outcome.line())
    click.echo(
        f"{counts['stored']} documents stored ({counts['new']} new articles), "
        f"{counts['rejected']} rejected, in {time.monotonic() - started:.1f}s"
    )


@feeds_group.command("poll")
@click.option("--once", is_flag=True, help="Poll the due feeds once and exit.")
@with_appcontext
def poll_command(once):
    """Poll every due feed now (the worker does this every minute)."""
    from app.textmining.tasks import poll_due_feeds

    while True:
        summary = poll_due_feeds()
        click.echo(", ".join(f"{k}: {v}" for k, v in summary.items()))
        if once:
            return
        time.sleep(60)


@feeds_group.command("list")
@with_appcontext
def list_command():
    """List feeds with their state."""
    from sqlalchemy import select

    from app.textmining.models import Feed

    for feed in db.session.scalars(select(Feed).order_by(Feed.id)):
        reason = f" — {feed.disabled_reason}" if feed.disabled_reason else ""
        click.echo(f"{feed.id:4}  {feed.status:8}  {feed.url}{reason}")


@click.group("textmining")
def textmining_group():
    """Extraction and the dependency network."""


@textmining_group.command("extract")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"mentions": [...]}.')
@click.option(
    "--model",
    default=None,
    help="Statistical model: auto (default setting), none, or a package name.",
)
@click.option(
    "--language",
    default="detect",
    help="The text's language (ISO 639-1): the model runs only on its own; "
    "'detect' (default) detects it, 'any' runs the model whatever the language.",
)
@with_appcontext
def extract_command(file, as_json, model, language):
    """Print the mentions a text yields (FILE may be - for standard input)."""
    from app.textmining.extraction import get_extractor
    from app.textmining.ingest import detect_language

    text = file.read()
    if language == "detect":
        language = detect_language(text)[0] or ""
    mentions = get_extractor(model).extract(text, None if language == "any" else language)
    if as_json:
        click.echo(
            json.dumps({"mentions": [m.as_json() for m in mentions]}, ensure_ascii=False, indent=2)
        )
        return
    for m in mentions:
        click.echo(f"{m.start:6}-{m.end:<6} {m.category:13} {m.canonical:30} {m.text!r}")


def _parse_date(_ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("must be a date like 2026-01-31", param=param) from exc


@textmining_group.command("network")
@click.option("--since", callback=_parse_date, help="Only articles from this date (YYYY-MM-DD).")
@click.option("--until", callback=_parse_date, help="Only articles up to this date.")
@click.option("--min-count", default=2, show_default=True, type=click.IntRange(1))
@click.option("--scope", type=click.Choice(["article", "sentence"]), default="article")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help='Print {"nodes": [...], "edges": [...]}.')
@with_appcontext
def network_command(since, until, min_count, scope, limit, as_json):
    """Print the nodes and weighted edges of the dependency network."""
    from app.textmining.network import NetworkFilter, build_network

    graph = build_network(
        NetworkFilter(since=since, until=until, min_count=min_count, scope=scope, limit=limit)
    )
    if as_json:
        json.dump(graph.as_json(), sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    click.echo(f"{graph.articles} articles, {len(graph.nodes)} nodes, {len(graph.edges)} edges")
    for e in graph.edges:
        click.echo(
            f"{e.count:5}  lift {e.lift:6.2f}  npmi {e.npmi:5.2f}  {e.source}  --  {e.target}"
        )


@textmining_group.command("reextract")
@with_appcontext
def reextract_command():
    """Extract every stored article again with the current term lists."""
    from app.security.access import Actor
    from app.textmining import service

    done = service.reextract(actor=Actor.system("cli"))
    db.session.commit()
    click.echo(f"{done} articles extracted again")


@textmining_group.command("seed-terms")
@with_appcontext
def seed_terms_command():
    """Copy the built-in term lists into the editable table (missing terms only)."""
    from app.textmining import service

    added = service.seed_terms()
    db.session.commit()
    click.echo(f"{added} terms added")


def init_app(app):
    app.cli.add_command(feeds_group)
    app.cli.add_command(textmining_group)
