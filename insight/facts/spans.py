"""Business hours for ``response_business_seconds``: the calendars' open spans in UTC, built
in Python by ``team.calendar``'s own day walk (hours, holidays, time zone, DST exactly as an
SLA counts them) and kept in a temporary table the facts' statement sums the overlaps of.
Calendar data, a few rows per calendar and day: never lead rows."""

import hashlib
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Prefetch

from leads.models import TOUCH_KINDS, TOUCH_SOURCES, Activity, Lead
from team.calendar import Schedule, day_intervals
from team.models import BusinessCalendar

from .dialect import adapt, as_datetime

# The calendars' open spans (UTC), rebuilt for the days each run needs: a temporary table,
# so it is per connection and per run (calendar data, not lead rows).
SPANS = "insight_calendar_spans"
SPANS_HELD = "insight_calendar_spans_held"  # which calendars and days the spans table holds
# Rows per INSERT of spans: 3 parameters each, under SQLite's old limit of 999 variables.
SPANS_PER_INSERT = 300


def days_needed(targets: tuple[str, list] | None, now: datetime) -> tuple[date | None, date | None]:
    """The UTC days the targets' response clocks can span: from the earliest capture to the
    latest rep touch (or now), with two days' margin for the calendars' time zones. None when
    there is no target lead. For a few leads, each is looked up by its key (an ``IN`` lets
    PostgreSQL walk a whole index in time order instead)."""
    lead, activity = Lead._meta.db_table, Activity._meta.db_table
    kinds = ", ".join(["%s"] * len(TOUCH_KINDS))
    sources = ", ".join(["%s"] * len(TOUCH_SOURCES))
    touch = f"a.kind IN ({kinds}) AND a.source IN ({sources})"
    touch_params = [*[str(k) for k in TOUCH_KINDS], *[str(s) for s in TOUCH_SOURCES]]
    if targets is None:
        sql = (
            f"SELECT (SELECT MIN(l.captured_at) FROM {lead} l),"
            f" (SELECT MAX(a.occurred_at) FROM {activity} a WHERE {touch})"
        )
        params = touch_params
    else:
        sql = (
            f"WITH targets(lead_id) AS ({targets[0]})"
            f" SELECT MIN((SELECT l.captured_at FROM {lead} l WHERE l.id = t.lead_id)),"
            f" MAX((SELECT MAX(a.occurred_at) FROM {activity} a WHERE a.lead_id = t.lead_id AND {touch}))"
            " FROM targets t"
        )
        params = [*targets[1], *touch_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        first, last = cursor.fetchone()
    if first is None:
        return None, None
    first = as_datetime(first)
    last = max(as_datetime(last), now) if last is not None else now
    return (first - timedelta(days=2)).date(), (last + timedelta(days=2)).date()


def schedules() -> dict[int, Schedule]:
    """Every calendar as a ``team.calendar.Schedule`` (two queries); one without hours counts
    the wall clock in its zone, as SLAs do (``work.services.Schedules``)."""
    calendars = BusinessCalendar.objects.prefetch_related(Prefetch("hours"), Prefetch("holidays")).order_by(
        "pk"
    )
    result = {}
    for calendar in calendars:
        schedule = Schedule.from_calendar(calendar)
        result[calendar.pk] = schedule if schedule.has_hours else Schedule.always_open(calendar.timezone)
    return result


def calendar_spans(schedule: Schedule, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The open spans (UTC) of ``schedule`` on the local days ``first`` to ``last``, by the
    same day walk ``team.calendar.business_minutes_between`` sums (DST gaps and repeats,
    holidays, shifts to midnight)."""
    spans = []
    day = first
    while day <= last:
        spans += day_intervals(schedule, day)
        day += timedelta(days=1)
    return spans


def materialize_spans(cursor, first: date, last: date) -> int:
    """Make the temporary spans table hold every calendar's open spans on ``first`` to
    ``last`` (calendar data: a few rows per calendar and day). Returns the rows written.

    The spans are kept between runs on the same connection (the worker's refresh every
    minute): a second table records the calendars' fingerprint and the days held, and the
    spans are rewritten only when the calendars changed or the days needed fall outside those
    held (then over both ranges, so the held range only grows). Both tables are written in
    the caller's transaction, so a rollback takes the spans and their record back together.
    An idle refresh used to spend half its time walking two years of calendar days in Python
    and inserting thousands of spans row by row."""
    datetime_type = connection.data_types["DateTimeField"]
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SPANS}"
        f" (calendar_id bigint NOT NULL, starts_at {datetime_type} NOT NULL, ends_at {datetime_type} NOT NULL)"
    )
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {SPANS}_start ON {SPANS} (calendar_id, starts_at)")
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SPANS_HELD}"
        " (fingerprint varchar(64) NOT NULL, first_day varchar(10) NOT NULL, last_day varchar(10) NOT NULL)"
    )
    calendars = schedules()
    fingerprint = _fingerprint(calendars)
    cursor.execute(f"SELECT fingerprint, first_day, last_day FROM {SPANS_HELD}")
    held = cursor.fetchone()
    if held and held[0] == fingerprint:
        held_first, held_last = date.fromisoformat(held[1]), date.fromisoformat(held[2])
        if held_first <= first and last <= held_last:
            return 0  # the spans held cover the days needed
        first, last = min(first, held_first), max(last, held_last)
    rows = [
        (pk, begin, end)
        for pk, schedule in calendars.items()
        for begin, end in calendar_spans(schedule, first, last)
    ]
    _empty(cursor, SPANS, SPANS_HELD)
    _insert_spans(cursor, rows)
    cursor.execute(
        f"INSERT INTO {SPANS_HELD} (fingerprint, first_day, last_day) VALUES (%s, %s, %s)",
        [fingerprint, first.isoformat(), last.isoformat()],
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {SPANS}")  # a temporary table has no statistics otherwise
    return len(rows)


def _fingerprint(calendars: dict[int, Schedule]) -> str:
    """What the spans depend on (each calendar's zone, weekly hours and holidays), hashed."""
    described = [
        (pk, schedule.tz.key, schedule.weekly, sorted(schedule.holidays))
        for pk, schedule in sorted(calendars.items())
    ]
    return hashlib.sha256(repr(described).encode()).hexdigest()


def _empty(cursor, *tables: str) -> None:
    """TRUNCATE on PostgreSQL: a temporary table is never vacuumed, so rows deleted every
    minute would pile up for the life of the connection."""
    if connection.vendor == "postgresql":
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    else:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")


def _insert_spans(cursor, rows: list[tuple[int, datetime, datetime]]) -> None:
    """COPY on PostgreSQL; elsewhere multi-row INSERTs (not one statement per span)."""
    columns = "calendar_id, starts_at, ends_at"
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {SPANS} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for chunk in range(0, len(rows), SPANS_PER_INSERT):
        batch = rows[chunk : chunk + SPANS_PER_INSERT]
        cursor.execute(
            f"INSERT INTO {SPANS} ({columns}) VALUES " + ", ".join(["(%s, %s, %s)"] * len(batch)),
            [value for pk, begin, end in batch for value in (pk, adapt(begin), adapt(end))],
        )
