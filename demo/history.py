"""The demo's past, replayed in time order under a moving clock.

A demo data set is only believable when every row agrees on when things happened: a lead is
captured, then routed, its timer starts, then someone touches it, then it is handed off. Writing
rows and backdating them afterwards cannot keep that promise (each service stamps what it
writes with the clock, and a backdating pass misses some), so the seed does what the product
does, at the moment it happened: each storyline is a generator that yields the moment of its
next step, and ``Replay`` runs the steps of all storylines in time order with the clock
(``time_machine``) set to that moment. The real services then stamp every event, work item,
touch and breach with a consistent time. Between two moments the replay does what beat would
have done in the meantime: timers falling due are swept at their due time, and leads waiting
in a team's unassigned queue are offered to routing again.

People act during their working hours, prospects at any hour. A storyline plans a person's
next step with the helpers below, which read the person's team calendar through
``team.calendar`` (the same business-time maths the SLA clocks use): ``at_work`` (now, or the
next opening), ``work_minutes`` (a reaction counted in business minutes, so a lead routed at
03:00 is touched the next working morning), ``work_delay`` (a wait of about the same calendar
length, spent in working time), ``working_day`` (some hours into a given day's work) and
``last_at_work`` (the latest working moment not after one, for a step that must already have
happened). ``until_at_work`` waits, inside a storyline, until a person is at work.
"""

import heapq
import itertools
from collections.abc import Generator
from datetime import date, datetime, timedelta

import time_machine
from django.db.models import Min, Q
from django.utils import timezone

from leads.models import Lead
from sdr.services import route_leads
from team.calendar import (
    Schedule,
    add_business_minutes,
    business_day_start,
    day_intervals,
    next_business_instant,
)
from work.models import WorkItem
from work.services import sweep_breaches

Storyline = Generator[datetime, None, None]
# Beat's routing sweep runs every minute; replaying it every few minutes changes nothing a
# person could see and keeps the replay short.
ROUTING_EVERY = timedelta(minutes=10)
# How far back ``last_at_work`` looks for a working day; the demo's calendars never close longer.
LOOK_BACK_DAYS = 21


def at(moment: datetime):
    """The clock stands at ``moment`` inside this block (it does not tick: rows written in one
    step share one time)."""
    return time_machine.travel(moment, tick=False)


class Replay:
    """Runs storylines' steps in time order, up to ``now``; a step that would happen after
    ``now`` has not happened yet, and ends its storyline."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self._queue: list[tuple[datetime, int, Storyline]] = []
        self._order = itertools.count()
        self._routed_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, storyline: Storyline) -> None:
        """Schedule a storyline. Its code before the first ``yield`` runs now, outside the
        replayed past: it may plan, but must not write."""
        first = next(storyline, None)
        if first is not None:
            self._push(first, storyline)

    def run(self) -> int:
        """Replay every step; returns how many ran."""
        steps = 0
        while self._queue:
            moment, _, storyline = heapq.heappop(self._queue)
            if moment > self.now:
                storyline.close()
                continue
            with at(moment):
                self.catch_up(moment)
                following = next(storyline, None)
            steps += 1
            if following is not None:
                # A storyline never goes back in time: a step planned for earlier runs now.
                self._push(max(following, moment), storyline)
        with at(self.now):
            self.catch_up(self.now)
        return steps

    def catch_up(self, moment: datetime) -> None:
        """What the periodic sweeps would have done before ``moment``: every timer that fell
        due is breached (and reassigned, if its policy says so) at its own due time, and leads
        waiting for someone with capacity are routed."""
        timed = WorkItem.objects.open().filter(policy__isnull=False)
        while True:
            due = timed.aggregate(
                breach=Min("due_at", filter=Q(breached_at__isnull=True, due_at__lte=moment)),
                reassign=Min("reassign_at", filter=Q(reassign_at__lte=moment)),
            )
            moments = [m for m in due.values() if m is not None]
            if not moments:
                break
            with at(min(moments)):
                sweep_breaches()
        if self._routed_at is None or moment - self._routed_at >= ROUTING_EVERY:
            self._routed_at = moment
            # Only leads that were sales-ready by then: a re-run must not route a lead before
            # the moment it became an MQL.
            waiting = list(
                Lead.objects.filter(status=Lead.Status.MQL, owner__isnull=True, mql_at__lte=moment)
                .order_by("mql_at", "pk")
                .values_list("pk", flat=True)[:500]
            )
            if waiting:
                route_leads(lead_ids=waiting, wait=False)

    def _push(self, moment: datetime, storyline: Storyline) -> None:
        heapq.heappush(self._queue, (moment, next(self._order), storyline))


# --- people's working time ----------------------------------------------------------------------


def schedule_of(user) -> Schedule:
    """The hours ``user`` works: their team's calendar; someone without one (or nobody, a
    system step) is never off work."""
    calendar = getattr(getattr(user, "team", None), "calendar", None)
    if calendar is None:
        return Schedule.always_open()
    return Schedule.from_calendar(calendar)


def at_work(user, moment: datetime) -> datetime:
    """``moment`` if ``user`` is at work then, else when they next start."""
    return next_business_instant(schedule_of(user), moment)


def work_minutes(user, start: datetime, minutes: float) -> datetime:
    """When ``user`` acts after ``minutes`` of their working time from ``start``: a reaction
    timed like the SLA clock that measures it. A closing instant becomes the next opening, as
    nobody works at the moment the office closes."""
    schedule = schedule_of(user)
    return next_business_instant(schedule, add_business_minutes(schedule, start, minutes))


def work_delay(user, start: datetime, wait: timedelta) -> datetime:
    """When ``user`` acts after a wait of about ``wait`` on the calendar, spent in working
    time: the wait is scaled by the share of the week the team works, so "a few days later"
    keeps its length on average but lands inside hours (not all at the next opening)."""
    schedule = schedule_of(user)
    week = timedelta(days=7)
    open_per_week = sum(
        (
            datetime.combine(date.min, closes) - datetime.combine(date.min, opens)
            for day in schedule.weekly
            for opens, closes in day
        ),
        timedelta(),
    )
    minutes = wait / timedelta(minutes=1) * min(1.0, open_per_week / week)
    return work_minutes(user, start, minutes)


def working_day(user, day: date, hours: float) -> datetime:
    """``hours`` into ``user``'s working day on ``day`` (a local date), or on the next working
    day if that one is closed: a dated step (a call booked for that day) at a working time."""
    schedule = schedule_of(user)
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=schedule.tz)
    return work_minutes(user, business_day_start(schedule, midnight, 0), hours * 60)


def last_at_work(user, moment: datetime, *, before_closing: timedelta = timedelta(minutes=20)) -> datetime:
    """The latest moment not after ``moment`` at which ``user`` is at work: ``moment`` itself
    within hours, else a little before the end of the last working day (or at its opening, if
    that day is shorter). For a step that must have happened by a deadline, such as now."""
    schedule = schedule_of(user)
    if next_business_instant(schedule, moment) == moment:
        return moment
    day = timezone.localtime(moment, schedule.tz).date()
    for _ in range(LOOK_BACK_DAYS):
        intervals = [(begin, end) for begin, end in day_intervals(schedule, day) if begin < moment]
        if intervals:
            begin, end = intervals[-1]
            return max(begin, min(end, moment) - before_closing)
        day -= timedelta(days=1)
    raise ValueError(f"{user} has not worked in the {LOOK_BACK_DAYS} days before {moment:%Y-%m-%d}.")


def until_at_work(user):
    """Inside a storyline (``yield from``): wait until ``user`` is at work, if they are not."""
    while (opening := at_work(user, timezone.now())) > timezone.now():
        yield opening
