"""Scheduled work of the case domain (run only by the worker process)."""

from app.extensions import db


def refresh_planner_statistics() -> None:
    """Keep the query planner's statistics of the case table fresh, so filtered lists keep
    choosing the right index as the table grows (SQLite has no autovacuum/autoanalyze)."""
    db.session.execute(db.text("ANALYZE case_file"))
    db.session.commit()
