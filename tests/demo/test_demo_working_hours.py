"""The demo's people work during their working hours: whatever day it is seeded, every event a
person made (a touch they logged, a lead, deal or account event with them as the actor) lies
inside the opening hours of that person's team, read in the team's own zone, on a working day
that is not a holiday. Prospects may write at 3 a.m.; a rep does not answer before morning."""

import pytest

from accounts.models import OpportunityEvent
from leads.models import Activity, ActivitySource, LeadEvent
from renewals.models import AccountEvent
from team.models import Holiday, User, WorkingHours

pytestmark = pytest.mark.django_db


def _rep_events():
    """(what, when, who) for every event a person made."""
    for a in Activity.objects.filter(source=ActivitySource.MANUAL).select_related("actor"):
        assert a.actor is not None, f"manual activity {a.kind} on lead {a.lead_id} without an actor"
        yield f"activity {a.kind}", a.occurred_at, a.actor
    for model in (LeadEvent, OpportunityEvent, AccountEvent):
        for e in model.objects.filter(actor__isnull=False).select_related("actor"):
            yield f"{model.__name__} {e.kind}", e.at, e.actor


def _opening_hours():
    """For each calendar: its weekly hours {weekday: [(opens, closes)]} and holiday dates, read
    straight from the rows an admin edits."""
    hours: dict[int, dict[int, list]] = {}
    for row in WorkingHours.objects.all():
        hours.setdefault(row.calendar_id, {}).setdefault(row.weekday, []).append((row.opens, row.closes))
    holidays: dict[int, set] = {}
    for row in Holiday.objects.all():
        holidays.setdefault(row.calendar_id, set()).add(row.date)
    return hours, holidays


def test_every_rep_made_event_is_inside_the_actors_working_hours(seeded):
    hours, holidays = _opening_hours()
    teams = {u.pk: u.team for u in User.objects.select_related("team__calendar")}
    checked, outside = 0, []
    for what, when, actor in _rep_events():
        calendar = teams[actor.pk].calendar if teams[actor.pk] else None
        assert calendar is not None, f"{actor.username} has no team calendar"
        local = when.astimezone(calendar.tzinfo)
        open_now = local.date() not in holidays.get(calendar.pk, set()) and any(
            opens <= local.time() < closes
            for opens, closes in hours.get(calendar.pk, {}).get(local.weekday(), [])
        )
        checked += 1
        if not open_now:
            outside.append(f"{what} by {actor.username} at {local:%a %d %b %H:%M %Z}")
    # The demo has plenty of rep work to check: touches, handoffs, answers, stage moves, calls.
    assert checked > 150
    assert not outside, f"{len(outside)} of {checked} outside working hours:\n" + "\n".join(outside[:40])
