"""Working the queue: a touch (the first one stops the first-touch timer), the next follow-up,
and taking a lead out of the queue (nurture or disqualify). An SDR works only the leads in
their own hands; a lead waiting in a team's unassigned queue is assigned before anyone
works it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kit.display import when_text
from leads.models import TOUCH_KINDS, ActivitySource, Lead, LeadEvent, TouchOutcome
from leads.services import IN_SALES, log_activity, transition_lead
from team.models import User
from work import services as work
from work.models import WorkItem

from ..access import may_work_lead
from ..models import Enrollment
from . import cadences
from .common import SdrError


def _check_worker(lead: Lead, by: User, *, assigned: bool = True) -> None:
    """Checked under the lead's row lock: an SDR works only leads in their own hands (a
    reassignment may have just moved it), and a lead waiting in a team's unassigned queue
    gets an owner before anyone works it (a touch would leave it in nobody's queue)."""
    if assigned and lead.owner_id is None:
        raise SdrError("This lead waits in its team's unassigned queue; assign it to a rep first.")
    if not may_work_lead(by, lead):
        raise SdrError("This lead is no longer in your queue (it was reassigned).")


@dataclass
class TouchResult:
    lead: Lead
    activity: object
    completed: list[WorkItem]


def log_touch(
    *,
    lead_id: int,
    by: User,
    kind: str,
    outcome: str = "",
    note: str = "",
    now: datetime | None = None,
    via: str = ActivitySource.MANUAL,
) -> TouchResult:
    """A rep reached out: the touch goes on the timeline, the first touch moves the lead to
    working and stops its SLA timer, and follow-ups due by now are done. ``via`` is how it
    was recorded: by the rep by hand, or by Refinery when it sent the rep's email."""
    if kind not in TOUCH_KINDS:
        raise SdrError(f"{kind!r} is not a touch (call, email, voicemail, social or meeting booked).")
    if outcome and outcome not in TouchOutcome.values:
        raise SdrError(f"{outcome!r} is not a touch outcome.")
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status not in IN_SALES:
            raise SdrError(
                f"A lead in {lead.get_status_display()} is not in a queue; touches are for MQLs and working leads."
            )
        _check_worker(lead, by)
        activity = log_activity(lead_id=lead.pk, kind=kind, via=via, actor=by, note=note, occurred_at=now)
        if outcome:
            type(activity).objects.filter(pk=activity.pk).update(outcome=outcome)
            activity.outcome = outcome
        if lead.status == Lead.Status.MQL:
            lead = transition_lead(
                lead_id=lead.pk,
                to=Lead.Status.WORKING,
                actor=by,
                reason="First touch",
                via=via,
                at=now,
            )
        # The rep acted on what the queue asked: a first touch, a returned handoff, a finished
        # cadence's nurture proposal; a due cadence step moves the cadence on (or a reply ends it).
        completed = work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=ACTED_ON_BY_TOUCH, by=by, now=now
        ) + work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.FOLLOW_UP], by=by, now=now, due_by=now
        )
        # After the line above: the "move to nurture?" item that finishing a cadence opens
        # must stay in the queue, not be completed by the very touch that opened it.
        completed += cadences.on_touch(lead_id=lead.pk, kind=kind, outcome=outcome, by=by, now=now)
    return TouchResult(lead=lead, activity=activity, completed=completed)


ACTED_ON_BY_TOUCH = [
    WorkItem.Kind.FIRST_TOUCH,
    WorkItem.Kind.HANDOFF_RETURNED,
    WorkItem.Kind.CADENCE_FINISHED,
]
MAX_FOLLOW_UP = timedelta(days=366)


def follow_up_time_problem(due_at: datetime, now: datetime | None = None) -> str:
    """Why ``due_at`` cannot be a follow-up time ('' when it can): shared by the service, the
    queue's form and the API, so all three say the same."""
    now = now or timezone.now()
    if due_at <= now:
        return "A follow-up is set for a time in the future."
    if due_at > now + MAX_FOLLOW_UP:
        return "A follow-up is set within the next year."
    return ""


def set_follow_up(*, lead_id: int, by: User, due_at: datetime, note: str = "") -> WorkItem:
    """The next follow-up on a lead: a work item in its owner's queue at ``due_at``. It
    replaces an earlier follow-up not yet done (a lead has one next step)."""
    now = timezone.now()
    if problem := follow_up_time_problem(due_at, now):
        raise SdrError(problem)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status not in IN_SALES:
            raise SdrError(
                f"A lead in {lead.get_status_display()} is not in a queue; nurture has no follow-ups."
            )
        _check_worker(lead, by)
        WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.FOLLOW_UP).update(
            state=WorkItem.State.CANCELLED, completed_at=now
        )
        title = f"Follow up: {note.strip()}" if note.strip() else "Follow up"
        [item] = work.open_items(
            [
                work.NewItem(
                    subject=lead,
                    kind=WorkItem.Kind.FOLLOW_UP,
                    title=title,
                    owner_id=lead.owner_id,
                    team_id=lead.team_id,
                    due_at=due_at,
                    note=note.strip(),
                )
            ],
            now=now,
        )
        message = f"Follow-up on {when_text(due_at)}"  # in the zone of whoever set it, named
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.FOLLOW_UP,
            at=now,
            actor=by,
            message=(f"{message}: {note.strip()}" if note.strip() else message)[:500],
        )
    return item


NURTURE_REASONS = (
    "Not ready yet (timing)",
    "No budget yet",
    "No response after several touches",
    "Early research",
    "Other",
)
DISQUALIFY_REASONS = (
    "Not a fit (size, industry, region)",
    "Student, job seeker or researcher",
    "Competitor",
    "Spam or fake details",
    "Duplicate of another lead",
    "Already a customer",
    "Other",
)
DISPOSITIONS: dict[str, tuple[str, ...]] = {
    Lead.Status.NURTURE: NURTURE_REASONS,
    Lead.Status.DISQUALIFIED: DISQUALIFY_REASONS,
}


def dispose_lead(*, lead_id: int, by: User, to: str, reason: str, note: str = "") -> None:
    """Take a lead out of the queue: back to marketing's nurture (and its nurture track, if one
    runs), or disqualified. The reason (and note) go on the timeline; its open work items are
    closed."""
    if to not in DISPOSITIONS:
        raise SdrError("A disposition is nurture or disqualify.")
    if reason not in DISPOSITIONS[to]:
        raise SdrError(f"Choose a reason: {', '.join(DISPOSITIONS[to])}.")
    text = f"{reason}: {note.strip()}" if note.strip() else reason
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status in IN_SALES:
            _check_worker(lead, by, assigned=False)
        return _dispose(lead_id, by, to, text)


def _dispose(lead_id: int, by: User, to: str, text: str) -> None:
    # A move the lifecycle refuses raises ``InvalidTransition``, a ``Refused`` like SdrError.
    lead = transition_lead(lead_id=lead_id, to=to, actor=by, reason=text, via=ActivitySource.MANUAL)
    cadences.end_enrollments(
        lead_ids=[lead_id], state=Enrollment.State.STOPPED, now=lead.status_changed_at, by=by, reason=text
    )
    if to == Lead.Status.NURTURE:
        # Parked, not forgotten: marketing's nurture track keeps writing to it.
        cadences.enroll_in_nurture(lead_ids=[lead_id], now=lead.status_changed_at)
