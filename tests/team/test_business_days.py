"""``business_day_start``: the opening of the N-th business day, as cadence steps are scheduled.
Day 0 is the start's own day while the team is still to work on it, else the next business
day; weekends, closed days and holidays are skipped; the answer is a UTC instant, right across
a change of the clocks."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from team.calendar import Schedule, business_day_start

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = ((time(9), time(17)),)


def weekdays(holidays=(), hours=NINE_TO_FIVE, tz=BERLIN) -> Schedule:
    return Schedule(tz=tz, weekly=(hours,) * 5 + ((), ()), holidays=frozenset(holidays))


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# November 2026 in Berlin is CET (UTC+1); the 24th is a Tuesday.
TUESDAY = (2026, 11, 24)


def test_day_zero_within_hours_is_the_start_itself():
    start = berlin(*TUESDAY, 10, 30)
    assert business_day_start(weekdays(), start, 0) == start.astimezone(UTC)


def test_day_zero_before_opening_is_that_mornings_opening():
    assert business_day_start(weekdays(), berlin(*TUESDAY, 7), 0) == berlin(*TUESDAY, 9)


@pytest.mark.parametrize("hour", [17, 18, 23])
def test_day_zero_at_or_after_closing_is_the_next_business_days_opening(hour):
    # At 17:00 the team has stopped working (intervals are half-open).
    assert business_day_start(weekdays(), berlin(*TUESDAY, hour), 0) == berlin(2026, 11, 25, 9)


def test_the_answer_is_utc():
    due = business_day_start(weekdays(), berlin(*TUESDAY, 7), 0)
    assert due.tzinfo == UTC and due == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_business_days_are_counted_from_day_zero():
    schedule = weekdays()
    assert business_day_start(schedule, berlin(*TUESDAY, 10), 1) == berlin(2026, 11, 25, 9)
    assert business_day_start(schedule, berlin(*TUESDAY, 10), 2) == berlin(2026, 11, 26, 9)


def test_a_weekend_is_skipped():
    schedule = weekdays()
    friday = berlin(2026, 11, 27, 10)
    assert business_day_start(schedule, friday, 1) == berlin(2026, 11, 30, 9)  # Monday
    assert business_day_start(schedule, friday, 5) == berlin(2026, 12, 4, 9)  # next Friday


@pytest.mark.parametrize("day", [28, 29])
def test_a_start_at_the_weekend_counts_monday_as_day_zero(day):
    schedule = weekdays()
    assert business_day_start(schedule, berlin(2026, 11, day, 11), 0) == berlin(2026, 11, 30, 9)
    assert business_day_start(schedule, berlin(2026, 11, day, 11), 1) == berlin(2026, 12, 1, 9)


def test_friday_after_hours_counts_monday_as_day_zero():
    assert business_day_start(weekdays(), berlin(2026, 11, 27, 18), 0) == berlin(2026, 11, 30, 9)


def test_a_holiday_is_skipped_like_a_weekend():
    schedule = weekdays(holidays=[date(2026, 11, 26)])  # the Thursday
    assert business_day_start(schedule, berlin(*TUESDAY, 10), 2) == berlin(2026, 11, 27, 9)


def test_a_holiday_on_day_zero_moves_it_to_the_next_business_day():
    schedule = weekdays(holidays=[date(2026, 11, 24)])
    assert business_day_start(schedule, berlin(*TUESDAY, 10), 0) == berlin(2026, 11, 25, 9)


def test_christmas_and_a_weekend_together():
    # Thursday 24 Dec 2026 working; 25 (Fri) and 28 (Mon) holidays; Sat and Sun closed.
    schedule = weekdays(holidays=[date(2026, 12, 25), date(2026, 12, 28)])
    assert business_day_start(schedule, berlin(2026, 12, 24, 16), 1) == berlin(2026, 12, 29, 9)


def test_a_day_with_two_shifts_opens_at_the_first_and_ends_at_the_last():
    split = ((time(9), time(12)), (time(13), time(17)))
    schedule = weekdays(hours=split)
    assert business_day_start(schedule, berlin(*TUESDAY, 12, 30), 0) == berlin(*TUESDAY, 13)
    assert business_day_start(schedule, berlin(*TUESDAY, 16), 1) == berlin(2026, 11, 25, 9)


def test_the_week_the_clocks_go_back_opens_at_nine_local_time():
    # Sunday 25 Oct 2026: CEST (UTC+2) becomes CET (UTC+1).
    friday = berlin(2026, 10, 23, 10)
    monday = business_day_start(weekdays(), friday, 1)
    assert monday == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert monday.astimezone(BERLIN).hour == 9


def test_the_week_the_clocks_go_forward_opens_at_nine_local_time():
    # Sunday 29 Mar 2026: CET (UTC+1) becomes CEST (UTC+2).
    friday = berlin(2026, 3, 27, 10)
    monday = business_day_start(weekdays(), friday, 1)
    assert monday == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert monday.astimezone(BERLIN).hour == 9


def test_a_team_open_over_the_clock_change_opens_on_the_sunday_it_changes():
    # A Sunday shift 01:00-05:00 on the night the clocks go forward still opens at 01:00.
    sundays = Schedule(tz=BERLIN, weekly=((),) * 6 + (((time(1), time(5)),),))
    due = business_day_start(sundays, berlin(2026, 3, 27, 10), 0)
    assert due == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


def test_another_zone_counts_its_own_days():
    new_york = ZoneInfo("America/New_York")
    schedule = weekdays(tz=new_york)
    # 23:30 in Berlin on Tuesday is 17:30 in New York: its Tuesday is over too.
    assert business_day_start(schedule, berlin(*TUESDAY, 23, 30), 0) == datetime(
        2026, 11, 25, 9, 0, tzinfo=new_york
    )
    # 20:00 in Berlin is 14:00 in New York: still Tuesday there.
    assert business_day_start(schedule, berlin(*TUESDAY, 20), 0) == berlin(*TUESDAY, 20)


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="days must be >= 0"):
        business_day_start(weekdays(), berlin(*TUESDAY, 10), -1)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="naive"):
        business_day_start(weekdays(), datetime(2026, 11, 24, 10), 0)


def test_a_schedule_without_hours_is_refused():
    with pytest.raises(ValueError, match="no working hours"):
        business_day_start(Schedule(tz=BERLIN, weekly=((),) * 7), berlin(*TUESDAY, 10), 0)


def test_holidays_that_close_every_day_for_years_are_refused_not_looped_on():
    first = date(2026, 11, 24).toordinal()
    every_day = [date.fromordinal(first + n) for n in range(4 * 366)]
    with pytest.raises(ValueError, match="No working time"):
        business_day_start(weekdays(holidays=every_day), berlin(*TUESDAY, 10), 0)
