"""Cadences: enrolling a lead, scheduling each step in business days, and ending the cadence.

A step is a work item (kind ``cadence_step``) on the lead in its SDR's queue, due by the
opening of its business day in the SDR's team calendar. Completing it schedules the next
step ``day_offset`` difference business days later; a reply or a booked meeting ends the
cadence; finishing the last step without a reply puts a "move to nurture?" item in the queue.

A nurture track (``Cadence.kind`` nurture) is a cadence too, for leads in marketing's nurture:
its steps are automatic emails from the track's ``sender``, its work items belong to nobody
(no queue shows them; the mail sweep sends them when due), its days are counted in the
sender's team calendar, and it ends when the lead becomes sales-ready (``route_leads``), replies,
bounces or unsubscribes, or after its last step. Leads join it when an SDR moves them to
nurture (``dispose_lead``) and, for every other way into nurture (a capture below the
threshold, an import, an MQL gone cold), by the sweep ``enroll_nurture_leads``.

Business days are counted in the lead's team calendar (weekends, closed days and holidays
skipped). The first step is due on business day ``day_offset`` counted from the enrollment
(day 0 is today while the team is still at work, else the next business day). A later step
is due ``gap`` business days after the day the step before it was done, where the day of a
touch logged in the evening or at the weekend is still that calendar day: a step done on
Friday evening with a gap of one comes due on Monday morning, not Tuesday.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from kit.errors import Refused
from leads.models import Lead, LeadEvent, TouchOutcome
from leads.services import IN_SALES
from team.calendar import Schedule, business_day_start
from team.models import User
from work import services as work
from work.models import WorkItem

from ..access import may_manage_queues, may_run_cadence, may_work_queue
from ..models import Cadence, CadenceStep, Enrollment

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class StepCount(TypedDict):
    """What ``cadence_states`` annotates on each enrollment."""

    total_steps: int


# A touch with one of these outcomes (or a booked meeting) ends the cadence: the prospect
# answered, so scripted touches stop and the SDR works the conversation.
REPLY_OUTCOMES: dict[str, str] = {
    TouchOutcome.REPLIED: Enrollment.State.REPLIED,
    TouchOutcome.MEETING_SET: Enrollment.State.MEETING,
}
STEP_KINDS = (WorkItem.Kind.CADENCE_STEP, WorkItem.Kind.CADENCE_FINISHED)


class CadenceError(Refused):
    """An enrollment or step the lead's state or the user's role does not allow; the message
    is for the user."""


def active_cadences():
    """The cadences an SDR may enroll a lead in (active sales cadences with at least one step;
    nurture tracks take leads in nurture by themselves)."""
    return (
        Cadence.objects.filter(is_active=True, kind=Cadence.Kind.SALES, steps__isnull=False)
        .distinct()
        .order_by("name")
    )


@dataclass(frozen=True)
class CadenceState:
    """Where a lead stands with cadences, for pages: its latest enrollment (active or ended),
    its cadence's number of steps, and when the open step is due."""

    enrollment: Enrollment | None
    total_steps: int = 0
    due_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.enrollment is not None and self.enrollment.state == Enrollment.State.ACTIVE


def cadence_states(lead_ids: Iterable[int]) -> dict[int, CadenceState]:
    """Each lead's ``CadenceState``: two queries whatever the number of leads."""
    ids = list(lead_ids)
    if not ids:
        return {}
    latest: dict[int, WithAnnotations[Enrollment, StepCount]] = {}
    enrollments = (
        Enrollment.objects.filter(lead_id__in=ids)
        .select_related("cadence", "step")
        .annotate(total_steps=Count("cadence__steps"))
        .order_by("lead_id", "-started_at", "-id")
    )
    for enrollment in enrollments:
        latest.setdefault(enrollment.lead_id, enrollment)
    due = dict(
        WorkItem.objects.open()
        .filter(work.subject_filter(Lead, ids), kind=WorkItem.Kind.CADENCE_STEP)
        .values_list("object_id", "due_at")
    )
    return {
        pk: CadenceState(
            enrollment=latest.get(pk),
            total_steps=latest[pk].total_steps if pk in latest else 0,
            due_at=due.get(pk),
        )
        for pk in ids
    }


def _step_title(step: CadenceStep, total: int) -> str:
    return f"{step.cadence.name}: step {step.position} of {total}, {step.get_channel_display().lower()}"


def _next_day(schedule: Schedule, instant: datetime) -> datetime:
    """Midnight at the start of the local calendar day after ``instant``'s."""
    day = instant.astimezone(schedule.tz).date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=schedule.tz)


def _is_nurture(enrollment: Enrollment) -> bool:
    return enrollment.cadence.kind == Cadence.Kind.NURTURE


def _step_item(
    enrollment: Enrollment, step: CadenceStep, lead: Lead, total: int, due: datetime
) -> work.NewItem:
    """A step's work item: in the lead's SDR's queue, or nobody's for a nurture track (the mail
    sweep sends its email when due)."""
    nurture = _is_nurture(enrollment)
    return work.NewItem(
        subject=lead,
        kind=WorkItem.Kind.CADENCE_STEP,
        title=_step_title(step, total),
        owner_id=None if nurture else lead.owner_id,
        team_id=None if nurture else lead.team_id,
        due_at=due,
        note=step.instructions,
    )


def _step_schedule(schedules: work.Schedules, enrollment: Enrollment, lead: Lead) -> Schedule:
    """The calendar a cadence's business days are counted in: the lead's team's, or for a nurture
    track its sender's (the lead has no team while in nurture)."""
    if _is_nurture(enrollment):
        sender = enrollment.cadence.sender
        return schedules.for_team(sender.team_id if sender is not None else None)
    return schedules.for_team(lead.team_id)


def _open_step(
    enrollment: Enrollment, step: CadenceStep, lead: Lead, total: int, due: datetime, now: datetime
) -> WorkItem:
    [item] = work.open_items([_step_item(enrollment, step, lead, total, due)], now=now)
    enrollment.step = step
    enrollment.manual_reason = ""
    enrollment.save(update_fields=["step", "manual_reason"])
    return item


def _check_actor(lead: Lead, by: User) -> None:
    """Under the lead's row lock (``sdr.access.may_run_cadence``), with the reason a refusal
    gives."""
    if may_run_cadence(by, lead):
        return
    if may_work_queue(by):
        raise CadenceError("This lead is not in your queue.")
    if may_manage_queues(by):
        raise CadenceError("This lead is not in a team you manage.")
    raise CadenceError("Only the lead's SDR (or their manager) enrolls it in a cadence.")


def enroll(*, lead_id: int, cadence_id: int, by: User, now: datetime | None = None) -> Enrollment:
    """Start a cadence on a lead the SDR works: its first step goes in the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        _check_actor(lead, by)
        if lead.status not in IN_SALES:
            raise CadenceError(
                f"A lead in {lead.get_status_display()} is not in a queue; it cannot be enrolled."
            )
        if lead.owner_id is None:
            raise CadenceError("This lead waits in its team's unassigned queue; assign it to a rep first.")
        active = Enrollment.objects.filter(lead=lead, state=Enrollment.State.ACTIVE).select_related("cadence")
        if current := active.first():
            raise CadenceError(f"This lead is already in the cadence {current.cadence}; stop it first.")
        cadence = Cadence.objects.filter(pk=cadence_id).first()
        if cadence is None or not cadence.is_active or cadence.kind != Cadence.Kind.SALES:
            raise CadenceError("Choose an active cadence.")
        steps = list(cadence.steps.select_related("cadence").order_by("position"))
        if not steps:
            raise CadenceError(f"The cadence {cadence} has no steps yet.")
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    lead=lead, cadence=cadence, enrolled_by=by, started_at=now
                )
        except IntegrityError:
            raise CadenceError("This lead is already in a cadence; stop it first.") from None
        # Enrolling again answers a finished cadence's "move to nurture?" question.
        work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.CADENCE_FINISHED], by=by, now=now
        )
        schedule = work.Schedules().for_team(lead.team_id)
        due = business_day_start(schedule, now, steps[0].day_offset)
        _open_step(enrollment, steps[0], lead, len(steps), due, now)
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.CADENCE,
            at=now,
            actor=by,
            message=f"Enrolled in {cadence} by {by} ({len(steps)} steps).",
        )
    return enrollment


def advance(*, lead_ids: Sequence[int], by: User | None, now: datetime) -> list[WorkItem]:
    """The open cadence steps of these leads are done (a touch was logged): schedule each
    enrollment's next step, or, after the last, propose nurture. Runs in the caller's
    transaction, with the leads locked. Returns the steps completed."""
    done = work.complete_items(
        model=Lead, subject_ids=lead_ids, kinds=[WorkItem.Kind.CADENCE_STEP], by=by, now=now
    )
    if not done:
        return []
    enrollments = Enrollment.objects.filter(
        lead_id__in={i.object_id for i in done}, state=Enrollment.State.ACTIVE
    ).select_related("step", "cadence__sender", "lead")
    schedules = work.Schedules()
    for enrollment in enrollments:
        steps = list(enrollment.cadence.steps.select_related("cadence").order_by("position"))
        current = enrollment.step
        later = [s for s in steps if current is None or s.position > current.position]
        lead = enrollment.lead
        if later:
            gap = later[0].day_offset - (current.day_offset if current else 0)
            # At least the next business day: two steps on one day would be one touch.
            schedule = _step_schedule(schedules, enrollment, lead)
            due = business_day_start(schedule, _next_day(schedule, now), max(gap, 1) - 1)
            _open_step(enrollment, later[0], lead, len(steps), due, now)
            continue
        _end(
            enrollment, Enrollment.State.FINISHED, now, by, f"{enrollment.cadence} finished without a reply."
        )
        if _is_nurture(enrollment):
            continue  # marketing's track: nobody's queue to ask "move to nurture?"
        work.open_items(
            [
                work.NewItem(
                    subject=lead,
                    kind=WorkItem.Kind.CADENCE_FINISHED,
                    title=f"{enrollment.cadence} finished without a reply: move to nurture?",
                    owner_id=lead.owner_id,
                    team_id=lead.team_id,
                    due_at=now,
                    note="Every step is done and the prospect has not answered. Nurture the lead "
                    "(No response after several touches), or keep working it.",
                )
            ],
            now=now,
        )
    return done


def on_touch(*, lead_id: int, kind: str, outcome: str, by: User | None, now: datetime) -> list[WorkItem]:
    """A touch was logged on a lead (inside ``log_touch``'s transaction): a reply or a booked
    meeting ends its cadence; any other touch completes the step in the queue (done early or
    late, the next one is counted from today). Returns the steps completed."""
    state = REPLY_OUTCOMES.get(outcome)
    if kind == "meeting_booked":
        state = Enrollment.State.MEETING
    if state is not None:
        end_enrollments(lead_ids=[lead_id], state=state, now=now, by=by)
        return []
    return advance(lead_ids=[lead_id], by=by, now=now)


def end_enrollments(
    *,
    lead_ids: Sequence[int],
    state: str,
    now: datetime,
    by: User | None = None,
    reason: str = "",
    kind: str | None = None,
) -> int:
    """End the active cadences of these leads (a reply, a meeting, a handoff, a disposition or
    the SDR stopping it; with ``kind``, only cadences of that kind): the enrollment records why
    and its open step leaves the queue."""
    active = Enrollment.objects.filter(lead_id__in=lead_ids, state=Enrollment.State.ACTIVE)
    if kind is not None:
        active = active.filter(cadence__kind=kind)
    ended: list[int] = []
    for enrollment in active.select_related("cadence"):
        label = Enrollment.State(state).label
        _end(
            enrollment,
            state,
            now,
            by,
            f"{enrollment.cadence}: {label.lower()}" + (f" ({reason})" if reason else ""),
        )
        ended.append(enrollment.lead_id)
    if ended:
        WorkItem.objects.open().filter(work.subject_filter(Lead, ended), kind__in=STEP_KINDS).update(
            state=WorkItem.State.CANCELLED, completed_at=now
        )
    return len(ended)


def _end(enrollment: Enrollment, state: str, now: datetime, by, message: str) -> None:
    enrollment.state = state
    enrollment.ended_at = now
    enrollment.step = None
    enrollment.save(update_fields=["state", "ended_at", "step"])
    LeadEvent.objects.create(
        lead_id=enrollment.lead_id, kind=LeadEvent.Kind.CADENCE, at=now, actor=by, message=message[:500]
    )


def stop(*, lead_id: int, by: User, now: datetime | None = None) -> int:
    """The SDR (or their manager) stops a lead's cadence by hand."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        _check_actor(lead, by)
        ended = end_enrollments(
            lead_ids=[lead.pk], state=Enrollment.State.STOPPED, now=now, by=by, reason=f"by {by}"
        )
        if not ended:
            raise CadenceError("This lead is not in a cadence.")
    return ended


# --- automatic email steps and nurture tracks --------------------------------------------------


def hold_step(*, lead_id: int, step_id: int, reason: str, now: datetime | None = None) -> bool:
    """An automatic email step could not be sent by itself (a merge field has no value, say). In
    a sales cadence the step waits in the SDR's queue like a manual one, its note saying why; a
    nurture track (nobody's queue) ends. Returns whether the lead's cadence was on that step.
    Runs in the caller's transaction."""
    now = now or timezone.now()
    enrollment = (
        Enrollment.objects.select_related("cadence", "step")
        .filter(lead_id=lead_id, state=Enrollment.State.ACTIVE, step_id=step_id)
        .first()
    )
    if enrollment is None or enrollment.step is None:
        return False
    position = enrollment.step.position
    if _is_nurture(enrollment):
        end_enrollments(
            lead_ids=[lead_id],
            state=Enrollment.State.STOPPED,
            now=now,
            reason=f"step {position}'s email could not be sent: {reason}",
        )
        return True
    enrollment.manual_reason = reason[:500]
    enrollment.save(update_fields=["manual_reason"])
    for item in WorkItem.objects.open().filter(
        work.subject_filter(Lead, [lead_id]), kind=WorkItem.Kind.CADENCE_STEP
    ):
        note = f"Not sent automatically: {reason} Write this step's email yourself."
        item.note = (f"{note}\n\n{item.note}" if item.note else note)[:2000]
        item.title = f"{item.title} (write it yourself)"[:200]
        item.save(update_fields=["note", "title"])
    LeadEvent.objects.create(
        lead_id=lead_id,
        kind=LeadEvent.Kind.CADENCE,
        at=now,
        message=f"{enrollment.cadence}: step {position}'s email was not sent automatically ({reason})"[:500],
    )
    return True


def nurture_track() -> Cadence | None:
    """The track leads entering nurture join: the oldest active nurture track with steps and a
    sender (marketing runs one at a time; an inactive one takes nobody new)."""
    return (
        Cadence.objects.filter(
            kind=Cadence.Kind.NURTURE, is_active=True, sender__isnull=False, steps__isnull=False
        )
        .select_related("sender")
        .distinct()
        .order_by("created_at", "id")
        .first()
    )


def enroll_in_nurture(*, lead_ids: Sequence[int], now: datetime | None = None) -> list[Enrollment]:
    """Leads in nurture join the active nurture track, if there is one: step 1's email is due
    on its business day in the sender's calendar, in nobody's queue. Leads no longer in nurture
    or already in a cadence are left alone. Locks the leads (in the caller's transaction, or
    its own); returns the new enrollments."""
    now = now or timezone.now()
    track = nurture_track()
    if track is None or not lead_ids:
        return []
    steps = list(track.steps.order_by("position"))
    for step in steps:
        step.cadence = track
    with transaction.atomic():
        leads = list(
            Lead.objects.select_for_update()
            .filter(pk__in=list(lead_ids), status=Lead.Status.NURTURE)
            .exclude(enrollments__state=Enrollment.State.ACTIVE)
            .order_by("pk")
        )
        if not leads:
            return []
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(lead=lead, cadence=track, step=steps[0], started_at=now) for lead in leads
        )
        schedule = _step_schedule(work.Schedules(), enrollments[0], leads[0])
        due = business_day_start(schedule, now, steps[0].day_offset)
        work.open_items(
            [
                _step_item(enrollment, steps[0], lead, len(steps), due)
                for enrollment, lead in zip(enrollments, leads, strict=True)
            ],
            now=now,
        )
        LeadEvent.objects.bulk_create(
            LeadEvent(
                lead=lead,
                kind=LeadEvent.Kind.CADENCE,
                at=now,
                message=f"Joined the nurture track {track} ({len(steps)} emails from {track.sender}).",
            )
            for lead in leads
        )
    return enrollments


# How far back the sweep looks for leads that entered nurture: beat runs it every few minutes,
# so this only matters after an outage longer than that (leads older than it stay out).
NURTURE_LOOKBACK = timedelta(days=2)
NURTURE_BATCH = 500


def enroll_nurture_leads(*, now: datetime | None = None, limit: int = 50_000) -> int:
    """The nurture sweep: leads that entered nurture lately (captured below the MQL threshold,
    imported, an MQL gone cold, moved there by hand) and have not joined a cadence since, join
    the active nurture track. Found from their timeline events (an index range over the
    lookback), in batches; a re-run finds nobody new. Returns how many joined."""
    now = now or timezone.now()
    track = nurture_track()
    if track is None:
        return 0
    since = max(track.created_at, now - NURTURE_LOOKBACK)
    entered = {
        *LeadEvent.objects.filter(
            kind=LeadEvent.Kind.STATUS, to_status=Lead.Status.NURTURE, at__gte=since, at__lte=now
        ).values_list("lead_id", flat=True),
        *LeadEvent.objects.filter(
            kind=LeadEvent.Kind.CAPTURED, to_status=Lead.Status.NURTURE, at__gte=since, at__lte=now
        ).values_list("lead_id", flat=True),
    }
    if not entered:
        return 0
    since_entering = Enrollment.objects.filter(
        lead=OuterRef("pk"), started_at__gte=OuterRef("status_changed_at")
    )
    waiting = list(
        Lead.objects.filter(pk__in=entered, status=Lead.Status.NURTURE)
        .exclude(Exists(since_entering))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    joined = 0
    for start in range(0, len(waiting), NURTURE_BATCH):
        joined += len(enroll_in_nurture(lead_ids=waiting[start : start + NURTURE_BATCH], now=now))
    return joined
