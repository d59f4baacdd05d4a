"""When work is due: each team's business calendar read once per batch (``Schedules``), the due
and reassignment times a policy gives an item started at a moment, the SLA policies by key, and
the window in which an open item counts as at risk."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch

from team.calendar import Schedule, add_business_minutes
from team.models import BusinessCalendar, Team

from ..models import SlaPolicy, WorkItem, format_minutes

logger = logging.getLogger(__name__)


class Schedules:
    """Team schedules for one batch of work: each team's calendar is read once (two queries
    for all of them), and due times are then computed without touching the database."""

    def __init__(self) -> None:
        self._by_team: dict[int | None, Schedule] = {}

    def load(self, team_ids: Iterable[int | None]) -> "Schedules":
        missing = {pk for pk in team_ids if pk is not None and pk not in self._by_team}
        if missing:
            calendars = BusinessCalendar.objects.prefetch_related("hours", "holidays")
            for team in Team.objects.filter(pk__in=missing).prefetch_related(
                Prefetch("calendar", queryset=calendars)
            ):
                self._by_team[team.pk] = self._schedule(team.calendar)
        return self

    def for_team(self, team_id: int | None) -> Schedule:
        if team_id is None:
            return Schedule.always_open("UTC")
        if team_id not in self._by_team:
            self.load([team_id])
        return self._by_team.get(team_id) or Schedule.always_open("UTC")

    @staticmethod
    def _schedule(calendar: BusinessCalendar) -> Schedule:
        schedule = Schedule.from_calendar(calendar)
        if not schedule.has_hours:
            # A calendar without hours is a configuration gap, not a reason to drop a timer:
            # count the clock around the clock in the team's zone, and say so.
            logger.warning("Calendar %s has no working hours; SLAs run on the wall clock", calendar)
            return Schedule.always_open(calendar.timezone)
        return schedule


def due_times(policy: SlaPolicy, start: datetime, schedule: Schedule) -> tuple[datetime, datetime | None]:
    """When an item under ``policy`` started at ``start`` is due, and when it is reassigned
    if still open after breaching (None when the policy never reassigns)."""
    clock = schedule if policy.mode == SlaPolicy.Mode.BUSINESS else Schedule.always_open("UTC")
    due = add_business_minutes(clock, start, policy.target_minutes)
    reassign = None
    if policy.reassign_after_minutes:
        reassign = add_business_minutes(clock, due, policy.reassign_after_minutes)
    return due, reassign


def warn_time(policy: SlaPolicy, start: datetime, schedule: Schedule) -> datetime | None:
    """When the owner of an item under ``policy`` started at ``start`` is warned: once the
    policy's share of its target has passed, counted on the same clock as the target (business
    minutes in the team's calendar, or the wall clock). None when the policy does not warn."""
    if not policy.warn_at_share:
        return None
    clock = schedule if policy.mode == SlaPolicy.Mode.BUSINESS else Schedule.always_open("UTC")
    return add_business_minutes(clock, start, policy.target_minutes * policy.warn_at_share)


def policies_by_key(*keys: str) -> dict[str, SlaPolicy]:
    return {p.key: p for p in SlaPolicy.objects.filter(key__in=keys)}


def describe_due(item: WorkItem) -> str:
    if item.policy is None:
        return ""
    return f"{item.policy.name}: {format_minutes(item.policy.target_minutes)}"


def at_risk_window() -> timedelta:
    return timedelta(minutes=settings.WORK_AT_RISK_MINUTES)
