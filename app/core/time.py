"""Time helpers: everything is stored in UTC."""

from datetime import UTC, datetime


def now_utc() -> datetime:
    """Current time, timezone-aware UTC. Use as a callable column default."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a datetime read back from SQLite (naive) to aware UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
