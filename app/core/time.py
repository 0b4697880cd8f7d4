"""Time helpers: everything is stored in UTC."""

from datetime import UTC, date, datetime


def now_utc() -> datetime:
    """Current time, timezone-aware UTC. Use as a callable column default."""
    return datetime.now(UTC)


def today_utc() -> date:
    """Today's date in UTC, as every stored timestamp counts it (``date.today()`` is the
    server's local date, a day off around midnight)."""
    return now_utc().date()


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a datetime read back from SQLite (naive) to aware UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
