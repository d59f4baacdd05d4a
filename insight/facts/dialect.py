"""The SQL spellings the facts' statements need that differ between PostgreSQL and SQLite
(timestamps, differences in seconds, LEAST and GREATEST, IS DISTINCT FROM), so the statement,
the spans and the watermarks write one text for both backends."""

from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def adapt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def as_datetime(value) -> datetime:
    """A timestamp read by raw SQL: aware on PostgreSQL, text (naive UTC) on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def seconds_between(later: str, earlier: str) -> str:
    """Seconds (fractional) from ``earlier`` to ``later``."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({later}) - ({earlier}))"
    # Django's own SQLite function: exact microseconds (julianday is off by tens of them).
    return f"(django_timestamp_diff({later}, {earlier}) / 1000000.0)"


def bigint(expression: str) -> str:
    return f"CAST({expression} AS BIGINT)"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if is_postgres() else f"MIN({a}, {b})"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgres() else f"MAX({a}, {b})"


def earliest(a: str, b: str) -> str:
    """The earlier of two moments, either of which may be NULL."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"


def days_before(moment: str, days: int) -> str:
    if is_postgres():
        return f"({moment} - INTERVAL '{days} days')"
    return f"datetime({moment}, '-{days} days')"


def is_distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if is_postgres() else f"{a} IS NOT {b}"
