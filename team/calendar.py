"""Business-hours arithmetic: SLA clocks that only run while a team is at work.

A ``Schedule`` is an immutable snapshot of a ``BusinessCalendar`` (time zone, weekly
opening hours, holidays), so due times can be computed without touching the database.

Business time is real elapsed time spent inside open intervals, not a count of wall-clock
minutes. A lead's clock must run exactly as long as the team was at work: on the night
the clocks go forward a 01:00-04:00 shift lasts two real hours, and on the night they go
back it lasts four. Each local day's intervals are therefore turned into UTC instants
with ``zoneinfo`` and all arithmetic is done on UTC instants.

Turning a local wall time into an instant uses one rule: "the first instant at which the
local clock shows that time or later". For an ordinary time that is the time itself.
For an ambiguous time (the repeated hour after a fall-back) it is the first occurrence,
i.e. ``fold=0``. For a time that does not exist (the gap of a spring-forward) it is the
instant the clock jumps; plain ``fold=0`` would instead push 02:30 an hour later, past
03:15, so an interval could end before it starts and a 02:00-02:30 shift would count
03:00-03:30 as working time although the clock never shows a time in the shift. The rule
is monotonic, so an interval never ends before it starts, and wall times that never
happen add no business time. The repeated hour of a fall-back counts when the clock
showed an open time just before it went back (in a 00:00-05:00 shift, say) and not
otherwise (a shift closing at 01:30 closes at the first 01:30).

Holidays are local dates in the schedule's zone: every interval of that date is closed.
``closes == time.max`` (23:59:59.999999) means "until midnight", so a day can be open
to the end without a one-microsecond hole; ``Schedule.always_open`` relies on it.

The walk goes day by day in the local zone, so its cost is proportional to the days
spanned. A schedule without any hours is a configuration error, as is one whose holidays
leave no open time for years; both raise ``ValueError`` instead of looping forever.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from team.models import BusinessCalendar

Interval = tuple[time, time]

ONE_DAY = timedelta(days=1)
MAX_IDLE_YEARS = 3
MAX_IDLE_DAYS = MAX_IDLE_YEARS * 366


@dataclass(frozen=True)
class Schedule:
    """When the clock runs: a zone, open intervals for each weekday and holiday dates.

    ``weekly`` has seven entries, Monday first, each a tuple of local ``(opens, closes)``
    intervals. Intervals are sorted and overlapping or adjacent ones merged on creation.
    """

    tz: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 entries (Monday first), got {len(self.weekly)}.")
        object.__setattr__(self, "weekly", tuple(_merge(day) for day in self.weekly))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def from_calendar(cls, calendar: "BusinessCalendar") -> "Schedule":
        """Snapshot a calendar; prefetch ``hours`` and ``holidays`` to make it query-free."""
        weekly: list[list[Interval]] = [[] for _ in range(7)]
        for hours in calendar.hours.all():
            weekly[hours.weekday].append((hours.opens, hours.closes))
        return cls(
            tz=calendar.tzinfo,
            weekly=tuple(tuple(day) for day in weekly),
            holidays=frozenset(holiday.date for holiday in calendar.holidays.all()),
        )

    @classmethod
    def always_open(cls, tz: str = "UTC") -> "Schedule":
        """Open around the clock: business time is elapsed time (wall-clock SLAs)."""
        return cls(tz=ZoneInfo(tz), weekly=(((time.min, time.max),),) * 7)

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime:
    """The instant (UTC) at which ``minutes`` business minutes have elapsed since ``start``.

    Counting begins at ``start`` if it is within hours, else at the next opening. Zero
    minutes return ``start`` itself (in UTC), even outside hours. The result may be a
    closing instant: the minutes ran out exactly when the team stopped working.
    """
    _require_hours(schedule)
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}.")
    start = _as_utc(start)
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return start
    for begin, end in _open_intervals_from(schedule, start):
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("an unbounded walk ends only by returning or raising")


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Business minutes elapsed from ``start`` to ``end``; 0 if ``end`` is not after it."""
    _require_hours(schedule)
    start, end = _as_utc(start), _as_utc(end)
    if end <= start:
        return 0.0
    total = timedelta()
    for begin, stop in _open_intervals_from(schedule, start, until=end):
        if begin >= end:
            break
        total += min(stop, end) - begin
    return total / timedelta(minutes=1)


def next_business_instant(schedule: Schedule, instant: datetime) -> datetime:
    """``instant`` (in UTC) if it is within hours, else the next opening.

    Intervals are half-open: at the closing instant the team has stopped working.
    """
    _require_hours(schedule)
    begin, _ = next(_open_intervals_from(schedule, _as_utc(instant)))
    return begin


def business_day_start(schedule: Schedule, start: datetime, days: int) -> datetime:
    """The opening (UTC) of the business day ``days`` business days after the one ``start``
    falls in: day 0 is ``start``'s own day if the team is still to work on it (then ``start``
    itself when it is within hours), else the next business day. Weekends, closed days and
    holidays are skipped. A cadence step "on business day N" comes due at this instant.
    """
    _require_hours(schedule)
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days!r}.")
    instant = _as_utc(start)
    day = instant.astimezone(schedule.tz).date()
    idle_days = 0
    while True:
        intervals = day_intervals(schedule, day)
        if intervals and intervals[-1][1] > instant:
            if days == 0:
                # Within hours: the start itself; before a shift (or between two): its opening.
                return next(max(begin, instant) for begin, end in intervals if end > instant)
            days -= 1
            idle_days = 0
        else:
            idle_days += 1
            if idle_days > MAX_IDLE_DAYS:
                raise ValueError(
                    f"No working time in the {MAX_IDLE_YEARS} years after {start:%Y-%m-%d}: "
                    "check the calendar's hours and holidays."
                )
        day += ONE_DAY


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for opens, closes in sorted(intervals):
        if closes <= opens:
            raise ValueError(f"An interval must close after it opens: {opens}-{closes}.")
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _require_hours(schedule: Schedule) -> None:
    if not schedule.has_hours:
        raise ValueError("The schedule has no working hours: business time would never pass.")


def _as_utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"Expected a timezone-aware datetime, got naive {value!r}.")
    return value.astimezone(UTC)


def _open_intervals_from(
    schedule: Schedule, instant: datetime, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Open UTC intervals ending after ``instant``, in order, the first clipped to it.

    Without ``until`` the walk is unbounded but gives up after years without open time;
    with it, the walk stops after the local day of ``until`` (callers clip the rest).
    """
    day = instant.astimezone(schedule.tz).date()
    # A day's intervals end by the next local midnight; the extra day covers a zone whose
    # clock goes back across midnight, where an instant's date lags the days already done.
    last_day = None if until is None else until.astimezone(schedule.tz).date() + ONE_DAY
    idle_days = 0
    while last_day is None or day <= last_day:
        found = False
        for begin, end in day_intervals(schedule, day):
            if end > instant:
                found = True
                yield max(begin, instant), end
        idle_days = 0 if found else idle_days + 1
        if last_day is None and idle_days > MAX_IDLE_DAYS:
            raise ValueError(
                f"No working time in the {MAX_IDLE_YEARS} years after {instant:%Y-%m-%d}: "
                "check the calendar's hours and holidays."
            )
        day += ONE_DAY


def day_intervals(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The UTC instants during which ``day`` (a local date) is open: the business-time
    arithmetic here walks these, and ``insight.facts`` materialises them as spans for SQL."""
    if day in schedule.holidays:
        return []
    intervals = []
    for opens, closes in schedule.weekly[day.weekday()]:
        begin = _first_instant_showing(schedule.tz, day, opens)
        if closes == time.max:
            end = _first_instant_showing(schedule.tz, day + ONE_DAY, time.min)
        else:
            end = _first_instant_showing(schedule.tz, day, closes)
        # Shifts entirely inside a spring-forward gap never happen.
        if end > begin:
            intervals.append((begin, end))
    return intervals


def _first_instant_showing(tz: ZoneInfo, day: date, wall: time) -> datetime:
    """The first instant (UTC) at which the local clock shows ``day wall`` or later."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz).utcoffset()
    second = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert first is not None
    assert second is not None
    if first >= second:
        # Equal offsets: an ordinary time. fold=0 ahead of fold=1: the repeated hour of a
        # fall-back, whose first occurrence comes first.
        return (naive - first).replace(tzinfo=UTC)
    # fold=0 behind fold=1: the time falls in a spring-forward gap. The clock jumps over
    # it somewhere between the two readings.
    return _clock_jump(tz, after=naive - second, until=naive - first)


def _clock_jump(tz: ZoneInfo, after: datetime, until: datetime) -> datetime:
    """The instant in (after, until] (naive UTC) at which ``tz`` changes its UTC offset."""
    # Offsets change on whole seconds, so a binary search over seconds is exact.
    low = after.replace(microsecond=0, tzinfo=UTC)
    offset_before = low.astimezone(tz).utcoffset()
    low_seconds, high_seconds = 0, math.ceil((until.replace(tzinfo=UTC) - low).total_seconds())
    while high_seconds - low_seconds > 1:
        middle = (low_seconds + high_seconds) // 2
        if (low + timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset_before:
            low_seconds = middle
        else:
            high_seconds = middle
    return low + timedelta(seconds=high_seconds)
