"""Dates and times as CRM exports write them (ISO, US, dotted, slashed)."""

import re
from datetime import UTC, datetime

# Salesforce US exports print dates month first ("04/09/2025" is April 9th), with an
# optional 12-hour time. Dots mean the European day-first order.
_US_DATE = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]m)?)?"
)
_DOTTED_DATE = re.compile(
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
_SLASHED_ISO_DATE = re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})")


def parse_datetime_loose(raw: str) -> datetime | None:
    """Return an aware UTC datetime from the date formats CRM exports use, or None.

    ISO 8601 dates and times ("2025-11-30", "2025-04-25 22:30", "2025-04-25T22:30:00+02:00"),
    US month/day/year with an optional time ("04/09/2025", "4/9/2025 10:30 PM"), day.month.year
    and year/month/day. A value without a zone is taken as UTC.
    """
    text = (raw or "").strip()
    if not text:
        return None
    value: datetime | None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = _parse_numeric_date(text.casefold())
        if value is None:
            return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is before year 1 in UTC
        return None


def _parse_numeric_date(text: str) -> datetime | None:
    for pattern in (_US_DATE, _DOTTED_DATE, _SLASHED_ISO_DATE):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        hour = int(parts.get("hour") or 0)
        if parts.get("ampm"):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if parts["ampm"] == "pm" else 0)
        try:
            return datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                hour,
                int(parts.get("minute") or 0),
                int(parts.get("second") or 0),
            )
        except ValueError:
            return None
    return None
