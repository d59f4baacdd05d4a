"""Business-hours arithmetic: worked examples, then properties over random schedules.

The properties compare ``team.calendar`` with an oracle that shares none of its code: a
UTC instant is business time when the latest wall time the local clock has shown so far
falls in an open interval of a non-holiday date. That is the module's rule ("a wall time
starts or ends a shift at the first instant the clock shows it") seen from the clock's side.
"""

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from team.calendar import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
    next_business_instant,
)
from team.models import BusinessCalendar, Holiday, WorkingHours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
NINE_TO_FIVE = ((time(9), time(17)),)
ALL_DAY = ((time.min, time.max),)
MICROSECOND = timedelta(microseconds=1)


def weekdays_only(tz: ZoneInfo, hours=NINE_TO_FIVE, holidays=()) -> Schedule:
    return Schedule(tz=tz, weekly=(hours,) * 5 + ((), ()), holidays=frozenset(holidays))


def sundays_only(tz: ZoneInfo, hours) -> Schedule:
    return Schedule(tz=tz, weekly=((),) * 6 + (hours,))


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


# Worked examples.


def test_friday_evening_lead_is_due_monday_morning():
    schedule = weekdays_only(BERLIN)

    due = add_business_minutes(schedule, local(BERLIN, 2026, 1, 16, 18, 30), 240)

    assert due == local(BERLIN, 2026, 1, 19, 13)
    assert due.tzinfo is UTC


def test_holiday_monday_pushes_the_due_time_to_tuesday():
    schedule = weekdays_only(BERLIN, holidays=[date(2026, 1, 19)])

    due = add_business_minutes(schedule, local(BERLIN, 2026, 1, 16, 18, 30), 240)

    assert due == local(BERLIN, 2026, 1, 20, 13)


def test_lunch_break_does_not_count():
    schedule = weekdays_only(BERLIN, hours=((time(9), time(12)), (time(13), time(17))))

    due = add_business_minutes(schedule, local(BERLIN, 2026, 1, 14, 11), 120)

    assert due == local(BERLIN, 2026, 1, 14, 14)
    assert business_minutes_between(schedule, local(BERLIN, 2026, 1, 14, 11), due) == 120


def test_lead_due_exactly_at_closing_is_due_at_closing():
    schedule = weekdays_only(BERLIN)

    due = add_business_minutes(schedule, local(BERLIN, 2026, 1, 14, 16), 60)

    assert due == local(BERLIN, 2026, 1, 14, 17)


def test_zero_minutes_is_due_at_once_even_outside_hours():
    schedule = weekdays_only(BERLIN)
    saturday = local(BERLIN, 2026, 1, 17, 10)

    assert add_business_minutes(schedule, saturday, 0) == saturday
    assert add_business_minutes(schedule, saturday, 0).tzinfo is UTC


def test_same_lead_is_due_at_different_times_in_different_zones():
    created = datetime(2026, 1, 16, 15, tzinfo=UTC)  # Friday 16:00 in Berlin, 10:00 in New York

    in_berlin = add_business_minutes(weekdays_only(BERLIN), created, 120)
    in_new_york = add_business_minutes(weekdays_only(NEW_YORK), created, 120)

    assert in_berlin == local(BERLIN, 2026, 1, 19, 10)
    assert in_new_york == local(NEW_YORK, 2026, 1, 16, 12)


def test_next_business_instant_is_the_instant_itself_during_hours():
    schedule = weekdays_only(BERLIN)

    assert next_business_instant(schedule, local(BERLIN, 2026, 1, 14, 10)) == local(BERLIN, 2026, 1, 14, 10)
    assert next_business_instant(schedule, local(BERLIN, 2026, 1, 14, 17)) == local(BERLIN, 2026, 1, 15, 9)


@pytest.mark.parametrize(
    ("sunday", "minutes"),
    [
        pytest.param(date(2026, 3, 1), 180, id="ordinary"),
        pytest.param(date(2026, 3, 8), 120, id="spring-forward"),
        pytest.param(date(2026, 11, 1), 240, id="fall-back"),
    ],
)
def test_night_shift_across_2am_follows_the_clock_change(sunday, minutes):
    schedule = sundays_only(NEW_YORK, ((time(1), time(4)),))
    saturday_noon = datetime.combine(sunday - timedelta(days=1), time(12), tzinfo=NEW_YORK)
    monday_noon = datetime.combine(sunday + timedelta(days=1), time(12), tzinfo=NEW_YORK)

    assert business_minutes_between(schedule, saturday_noon, monday_noon) == minutes


@pytest.mark.parametrize(
    ("sunday", "hours"),
    [
        pytest.param(date(2026, 3, 1), 24, id="ordinary"),
        pytest.param(date(2026, 3, 8), 23, id="spring-forward"),
        pytest.param(date(2026, 11, 1), 25, id="fall-back"),
    ],
)
def test_all_day_sunday_lasts_as_long_as_the_day(sunday, hours):
    schedule = sundays_only(NEW_YORK, ALL_DAY)
    saturday_noon = datetime.combine(sunday - timedelta(days=1), time(12), tzinfo=NEW_YORK)
    monday_noon = datetime.combine(sunday + timedelta(days=1), time(12), tzinfo=NEW_YORK)

    assert business_minutes_between(schedule, saturday_noon, monday_noon) == hours * 60


def test_due_time_skips_the_hour_lost_to_spring_forward():
    schedule = sundays_only(NEW_YORK, ((time(1), time(4)),))

    # 2026-03-08 gives 120 real minutes (01:00 EST to 04:00 EDT); the rest runs a week later.
    due = add_business_minutes(schedule, local(NEW_YORK, 2026, 3, 7, 20), 150)

    assert due == local(NEW_YORK, 2026, 3, 15, 1, 30)


def test_office_day_on_a_clock_change_day_is_still_eight_hours():
    schedule = sundays_only(BERLIN, NINE_TO_FIVE)

    for sunday in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(sunday, time.min, tzinfo=BERLIN)
        end = datetime.combine(sunday, time(23), tzinfo=BERLIN)
        assert business_minutes_between(schedule, start, end) == 480


def test_shift_inside_the_spring_forward_gap_never_happens():
    schedule = sundays_only(NEW_YORK, ((time(2), time(2, 30)),))
    saturday = local(NEW_YORK, 2026, 3, 7, 12)

    assert business_minutes_between(schedule, saturday, local(NEW_YORK, 2026, 3, 9)) == 0
    assert add_business_minutes(schedule, saturday, 10) == local(NEW_YORK, 2026, 3, 15, 2, 10)


def test_shift_opening_or_closing_in_the_gap_starts_or_ends_when_the_clock_jumps():
    saturday, monday = local(NEW_YORK, 2026, 3, 7, 12), local(NEW_YORK, 2026, 3, 9)

    # 01:30-02:30 ends at 03:00 EDT, when the clock jumps: 30 real minutes.
    closing_in_gap = sundays_only(NEW_YORK, ((time(1, 30), time(2, 30)),))
    assert business_minutes_between(closing_in_gap, saturday, monday) == 30
    # 02:30-03:15 opens at 03:00 EDT: 15 real minutes, never a negative interval.
    opening_in_gap = sundays_only(NEW_YORK, ((time(2, 30), time(3, 15)),))
    assert business_minutes_between(opening_in_gap, saturday, monday) == 15
    assert next_business_instant(opening_in_gap, saturday) == local(NEW_YORK, 2026, 3, 8, 3)


def test_shift_closing_in_the_repeated_hour_closes_the_first_time_the_clock_shows_it():
    schedule = sundays_only(NEW_YORK, ((time(0, 30), time(1, 30)),))
    saturday, monday = local(NEW_YORK, 2026, 10, 31, 12), local(NEW_YORK, 2026, 11, 2)
    second_one_ten = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)  # 01:10 EST, after fall-back

    assert business_minutes_between(schedule, saturday, monday) == 60
    assert next_business_instant(schedule, second_one_ten) == local(NEW_YORK, 2026, 11, 8, 0, 30)


@pytest.mark.parametrize(
    ("sunday", "minutes"),
    [
        pytest.param(date(2026, 4, 5), 150, id="half-hour-back"),
        pytest.param(date(2026, 10, 4), 90, id="half-hour-forward"),
    ],
)
def test_lord_howe_half_hour_clock_change(sunday, minutes):
    schedule = sundays_only(LORD_HOWE, ((time(1), time(3)),))
    start = datetime.combine(sunday, time.min, tzinfo=LORD_HOWE)
    end = datetime.combine(sunday, time(12), tzinfo=LORD_HOWE)

    assert business_minutes_between(schedule, start, end) == minutes


def test_overlapping_and_adjacent_hours_are_merged():
    hours = ((time(13), time(14)), (time(9), time(12)), (time(11), time(13)), (time(15), time(16)))

    schedule = weekdays_only(BERLIN, hours=hours)

    assert schedule.weekly[0] == ((time(9), time(14)), (time(15), time(16)))


@pytest.mark.django_db
def test_schedule_from_prefetched_calendar_needs_no_queries(django_assert_num_queries):
    calendar = BusinessCalendar.objects.create(name="Berlin office", timezone="Europe/Berlin")
    WorkingHours.objects.create(calendar=calendar, weekday=0, opens=time(9), closes=time(12))
    WorkingHours.objects.create(calendar=calendar, weekday=0, opens=time(12), closes=time(17))
    WorkingHours.objects.create(calendar=calendar, weekday=4, opens=time(9), closes=time(13))
    Holiday.objects.create(calendar=calendar, date=date(2026, 1, 19), name="Closed")
    calendar = BusinessCalendar.objects.prefetch_related("hours", "holidays").get(pk=calendar.pk)

    with django_assert_num_queries(0):
        schedule = Schedule.from_calendar(calendar)

    assert schedule.tz == BERLIN
    assert schedule.weekly == (((time(9), time(17)),), (), (), (), ((time(9), time(13)),), (), ())
    assert schedule.holidays == {date(2026, 1, 19)}
    # Friday 12:30 + 60 minutes: 30 on Friday, Monday is a holiday, 30 on the next Friday.
    due = add_business_minutes(schedule, local(BERLIN, 2026, 1, 16, 12, 30), 60)
    assert due == local(BERLIN, 2026, 1, 23, 9, 30)


# Configuration errors.


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, t: add_business_minutes(s, t, 10), id="add"),
        pytest.param(lambda s, t: business_minutes_between(s, t, t + timedelta(1)), id="between"),
        pytest.param(next_business_instant, id="next"),
    ],
)
def test_schedule_without_hours_is_refused(call):
    schedule = Schedule(tz=BERLIN, weekly=((),) * 7)

    with pytest.raises(ValueError, match="no working hours"):
        call(schedule, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("minutes", [-1, -0.001, math.nan, math.inf])
def test_negative_or_non_finite_minutes_are_refused(minutes):
    with pytest.raises(ValueError, match="minutes"):
        add_business_minutes(weekdays_only(BERLIN), datetime(2026, 1, 1, tzinfo=UTC), minutes)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_business_instant(weekdays_only(BERLIN), datetime(2026, 1, 1))


def test_calendar_closed_for_years_is_refused_instead_of_walking_forever():
    mondays = [date(2024, 1, 1) + timedelta(weeks=n) for n in range(52 * 4)]
    schedule = Schedule(tz=BERLIN, weekly=(NINE_TO_FIVE,) + ((),) * 6, holidays=frozenset(mondays))

    with pytest.raises(ValueError, match="No working time"):
        add_business_minutes(schedule, datetime(2024, 1, 1, tzinfo=UTC), 10)
    assert business_minutes_between(
        schedule, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    ) == pytest.approx(0)


@pytest.mark.parametrize(
    "weekly",
    [
        pytest.param((NINE_TO_FIVE,) * 6, id="six-days"),
        pytest.param((((time(17), time(9)),),) + ((),) * 6, id="closes-before-opens"),
    ],
)
def test_malformed_weekly_hours_are_refused(weekly):
    with pytest.raises(ValueError, match=r"weekly|close after"):
        Schedule(tz=BERLIN, weekly=weekly)


# Properties.

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
]
PROPERTY = settings(max_examples=200, deadline=None)
TOLERANCE = timedelta(microseconds=2)


def _clock_changes(zone: str) -> list[datetime]:
    """Noon (UTC) before each day on which the zone's offset changes, 2024-2027."""
    tz, changes = ZoneInfo(zone), []
    day = datetime(2024, 1, 1, 12, tzinfo=UTC)
    while day.year < 2028:
        if (day + timedelta(days=1)).astimezone(tz).utcoffset() != day.astimezone(tz).utcoffset():
            changes.append(day)
        day += timedelta(days=1)
    return changes


CLOCK_CHANGES = {zone: _clock_changes(zone) for zone in ZONES}


def _grid_time(step: int) -> time:
    """Five-minute steps through the day; the 288th is midnight at the end of the day."""
    return time.max if step == 288 else time(step // 12, step % 12 * 5)


# Biased towards midnight and the hours around a clock change.
grid_steps = st.one_of(st.sampled_from([0, 12, 18, 24, 30, 36, 288]), st.integers(0, 288))
intervals = st.tuples(grid_steps, grid_steps).filter(lambda pair: pair[0] != pair[1])
days = st.lists(intervals.map(lambda pair: tuple(_grid_time(s) for s in sorted(pair))), max_size=3)
weeks = st.tuples(*[days] * 7).filter(any)
# Hours that open or close between midnight and 04:00, where clocks change.
night_steps = st.one_of(st.integers(0, 48), st.just(288))
night_intervals = st.tuples(night_steps, night_steps).filter(lambda pair: pair[0] != pair[1])
night_days = st.lists(
    night_intervals.map(lambda pair: tuple(_grid_time(s) for s in sorted(pair))), max_size=3
)
night_weeks = st.tuples(*[night_days] * 7).filter(any)
minutes = st.one_of(st.integers(0, 2000), st.floats(0, 2000))
positive_minutes = st.one_of(st.integers(1, 2000), st.floats(0.001, 2000))


@st.composite
def scenarios(
    draw, whole_minutes: bool = False, night_before_clock_change: bool = False
) -> tuple[Schedule, datetime]:
    """A random schedule and a start instant, often days away from a clock change.

    ``night_before_clock_change`` starts within the day before a change, with hours that
    open or close around the changing hour.
    """
    if night_before_clock_change:
        zone = draw(st.sampled_from([zone for zone in ZONES if CLOCK_CHANGES[zone]]))
        offset = draw(st.integers(-86400, 0))
        start = draw(st.sampled_from(CLOCK_CHANGES[zone])) + timedelta(seconds=offset)
    else:
        zone = draw(st.sampled_from(ZONES))
        anywhere = st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
        start = draw(anywhere)
        if CLOCK_CHANGES[zone] and draw(st.booleans()):
            offset = draw(st.integers(-2 * 86400, 86400))
            start = draw(st.sampled_from(CLOCK_CHANGES[zone])) + timedelta(seconds=offset)
    tz = ZoneInfo(zone)
    if whole_minutes:
        start = start.replace(second=0, microsecond=0)
    first_day = start.astimezone(tz).date()
    holidays = draw(st.sets(st.integers(-1, 40), max_size=12))
    schedule = Schedule(
        tz=tz,
        weekly=draw(night_weeks if night_before_clock_change else weeks),
        holidays=frozenset(first_day + timedelta(days=n) for n in holidays),
    )
    shown_in = draw(st.sampled_from([UTC, tz, ZoneInfo("Asia/Tokyo")]))
    return schedule, start.astimezone(shown_in)


def _latest_wall_time(tz: ZoneInfo, instant: datetime) -> datetime:
    """The latest local wall time shown up to ``instant``: the wall time, except in the
    repeated hour after a fall-back (at most three hours back in the zones tested)."""
    instant = instant.astimezone(UTC)
    return max((instant - timedelta(minutes=k)).astimezone(tz).replace(tzinfo=None) for k in range(181))


def _wall_time_is_open(schedule: Schedule, wall: datetime) -> bool:
    if wall.date() in schedule.holidays:
        return False
    at = wall.time()
    return any(
        opens <= at and (at < closes or closes == time.max)
        for opens, closes in schedule.weekly[wall.weekday()]
    )


def _is_open(schedule: Schedule, instant: datetime) -> bool:
    return _wall_time_is_open(schedule, _latest_wall_time(schedule.tz, instant))


@PROPERTY
@given(scenarios(), minutes)
def test_between_measures_what_add_added(scenario, n):
    schedule, start = scenario

    due = add_business_minutes(schedule, start, n)

    assert business_minutes_between(schedule, start, due) == pytest.approx(n, abs=1e-6)


@PROPERTY
@given(scenarios(), minutes, minutes)
def test_add_is_monotonic_in_minutes(scenario, m, n):
    schedule, start = scenario
    fewer, more = sorted((m, n))

    assert add_business_minutes(schedule, start, fewer) <= add_business_minutes(schedule, start, more)


@PROPERTY
@given(scenarios(), minutes, minutes)
def test_adding_in_two_steps_equals_adding_at_once(scenario, m, n):
    schedule, start = scenario

    in_two_steps = add_business_minutes(schedule, add_business_minutes(schedule, start, m), n)
    at_once = add_business_minutes(schedule, start, m + n)

    assert abs(in_two_steps - at_once) <= TOLERANCE


@PROPERTY
@given(scenarios(), positive_minutes)
def test_due_time_ends_open_time_and_never_a_holiday(scenario, n):
    schedule, start = scenario

    due = add_business_minutes(schedule, start, n)

    assert due > start
    # The due time may be a closing instant, so check the moment just before it.
    assert _is_open(schedule, due - MICROSECOND)
    assert (due - MICROSECOND).astimezone(schedule.tz).date() not in schedule.holidays


@PROPERTY
@given(scenarios(), st.lists(st.integers(0, 4 * 86400 * 10**6), min_size=2, max_size=2))
def test_between_is_additive(scenario, offsets):
    schedule, start = scenario
    a = start.astimezone(UTC)
    b, c = (a + timedelta(microseconds=offset) for offset in sorted(offsets))

    parts = business_minutes_between(schedule, a, b) + business_minutes_between(schedule, b, c)

    assert parts == pytest.approx(business_minutes_between(schedule, a, c), abs=1e-6)


@PROPERTY
@given(scenarios(), st.integers(-86400 * 10**6, 30 * 86400 * 10**6))
def test_always_open_business_time_is_elapsed_time(scenario, elapsed):
    schedule, start = scenario
    always = Schedule.always_open(str(schedule.tz))
    end = start.astimezone(UTC) + timedelta(microseconds=elapsed)

    measured = business_minutes_between(always, start, end)

    assert measured == pytest.approx(max(elapsed, 0) / 60e6, abs=1e-6)
    if elapsed >= 0:
        assert add_business_minutes(always, start, elapsed / 60e6) == end
        # Compare in UTC: an aware time in a fold (the repeated hour) never equals a time in
        # another zone, by PEP 495's rule for inter-zone comparisons.
        assert next_business_instant(always, start) == start.astimezone(UTC)


def _count_open_minutes(schedule: Schedule, start: datetime, window: int) -> int:
    # Boundaries fall on whole UTC minutes (five-minute hours, whole-minute offsets and
    # starts), so each minute is entirely open or entirely closed.
    start = start.astimezone(UTC)
    latest_wall = _latest_wall_time(schedule.tz, start)
    open_minutes = 0
    for k in range(window):
        wall = (start + timedelta(minutes=k)).astimezone(schedule.tz).replace(tzinfo=None)
        latest_wall = max(latest_wall, wall)
        open_minutes += _wall_time_is_open(schedule, latest_wall)
    return open_minutes


@settings(max_examples=100, deadline=None)
@given(scenarios(whole_minutes=True), st.integers(0, 2 * 1440))
def test_between_matches_a_minute_by_minute_count(scenario, window):
    schedule, start = scenario
    start = start.astimezone(UTC)  # minutes of real time, not of wall time

    measured = business_minutes_between(schedule, start, start + timedelta(minutes=window))

    assert measured == pytest.approx(_count_open_minutes(schedule, start, window), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(scenarios(whole_minutes=True, night_before_clock_change=True), st.integers(1440, 2880))
def test_between_matches_a_minute_by_minute_count_across_clock_changes(scenario, window):
    schedule, start = scenario
    start = start.astimezone(UTC)  # minutes of real time, not of wall time

    measured = business_minutes_between(schedule, start, start + timedelta(minutes=window))

    assert measured == pytest.approx(_count_open_minutes(schedule, start, window), abs=1e-6)


@PROPERTY
@given(scenarios(), positive_minutes)
def test_next_business_instant_is_the_first_open_instant(scenario, n):
    schedule, start = scenario

    first = next_business_instant(schedule, start)

    assert first >= start
    assert _is_open(schedule, first)
    assert first == start or not _is_open(schedule, first - MICROSECOND)
    assert business_minutes_between(schedule, start, first) == 0
    assert add_business_minutes(schedule, start, n) > first
