"""Cadences: enrolling a lead, scheduling each step in business days, and ending the cadence.

A step is a work item (kind ``cadence_step``) on the lead in its SDR's queue, due by the
opening of its business day in the SDR's team calendar. Completing it schedules the next
step ``day_offset`` difference business days later; a reply or a booked meeting ends the
cadence; finishing the last step without a reply puts a "move to nurture?" item in the queue.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent, TouchOutcome
from leads.services import IN_SALES
from team.calendar import business_day_start
from team.models import User
from work import services as work
from work.models import WorkItem

from .models import Cadence, CadenceStep, Enrollment

# A touch with one of these outcomes (or a booked meeting) ends the cadence: the prospect
# answered, so scripted touches stop and the SDR works the conversation.
REPLY_OUTCOMES = {
    TouchOutcome.REPLIED: Enrollment.State.REPLIED,
    TouchOutcome.MEETING_SET: Enrollment.State.MEETING,
}
STEP_KINDS = (WorkItem.Kind.CADENCE_STEP, WorkItem.Kind.CADENCE_FINISHED)


class CadenceError(Exception):
    """An enrollment or step the lead's state or the user's role does not allow."""


def _step_title(step: CadenceStep, total: int) -> str:
    return f"{step.cadence.name}: step {step.position} of {total}, {step.get_channel_display().lower()}"


def _open_step(
    enrollment: Enrollment,
    step: CadenceStep,
    lead: Lead,
    total: int,
    start: datetime,
    days: int,
    now: datetime,
) -> WorkItem:
    due = business_day_start(work.Schedules().for_team(lead.team_id), start, days)
    [item] = work.open_items(
        [
            work.NewItem(
                subject=lead,
                kind=WorkItem.Kind.CADENCE_STEP,
                title=_step_title(step, total),
                owner_id=lead.owner_id,
                team_id=lead.team_id,
                due_at=due,
                note=step.instructions,
            )
        ],
        now=now,
    )
    enrollment.step = step
    enrollment.save(update_fields=["step"])
    return item


def enroll(*, lead_id: int, cadence_id: int, by: User, now: datetime | None = None) -> Enrollment:
    """Start a cadence on a lead the SDR works: its first step goes in the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status not in IN_SALES:
            raise CadenceError(
                f"A lead in {lead.get_status_display()} is not in a queue; it cannot be enrolled."
            )
        if lead.owner_id is None:
            raise CadenceError("This lead waits in its team's unassigned queue; assign it to a rep first.")
        if by.is_sdr and lead.owner_id != by.pk:
            raise CadenceError("This lead is not in your queue.")
        cadence = Cadence.objects.filter(pk=cadence_id, is_active=True).first()
        if cadence is None:
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
        _open_step(enrollment, steps[0], lead, len(steps), now, steps[0].day_offset, now)
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.CADENCE,
            at=now,
            actor=by,
            message=f"Enrolled in {cadence} by {by}.",
        )
    return enrollment


def advance(*, lead_ids: Sequence[int], by: User | None, now: datetime) -> None:
    """The open cadence steps of these leads are done (a touch was logged): schedule each
    enrollment's next step, or, after the last, propose nurture. Runs in the caller's
    transaction, with the leads locked."""
    items = list(
        WorkItem.objects.open().filter(work.subject_filter(Lead, lead_ids), kind=WorkItem.Kind.CADENCE_STEP)
    )
    if not items:
        return
    work.complete_items(model=Lead, subject_ids=lead_ids, kinds=[WorkItem.Kind.CADENCE_STEP], by=by, now=now)
    enrollments = Enrollment.objects.filter(
        lead_id__in={i.object_id for i in items}, state=Enrollment.State.ACTIVE
    ).select_related("step", "cadence", "lead")
    for enrollment in enrollments:
        steps = list(enrollment.cadence.steps.select_related("cadence").order_by("position"))
        current = enrollment.step
        later = [s for s in steps if current is None or s.position > current.position]
        lead = enrollment.lead
        if later:
            gap = later[0].day_offset - (current.day_offset if current else 0)
            # At least the next business day: two steps on one day would be one touch.
            _open_step(enrollment, later[0], lead, len(steps), now, max(gap, 1), now)
            continue
        _end(
            enrollment, Enrollment.State.FINISHED, now, by, f"{enrollment.cadence} finished without a reply."
        )
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


def on_touch(*, lead_id: int, kind: str, outcome: str, by: User | None, now: datetime) -> None:
    """A touch was logged on a lead (inside ``log_touch``'s transaction): a reply or a booked
    meeting ends its cadence; any other touch completes the step that is due."""
    state = REPLY_OUTCOMES.get(outcome)
    if kind == "meeting_booked":
        state = Enrollment.State.MEETING
    if state is not None:
        end_enrollments(lead_ids=[lead_id], state=state, now=now, by=by)
        return
    advance(lead_ids=[lead_id], by=by, now=now)


def end_enrollments(
    *, lead_ids: Sequence[int], state: str, now: datetime, by: User | None = None, reason: str = ""
) -> int:
    """End the active cadences of these leads (a reply, a meeting, a handoff, a disposition or
    the SDR stopping it): the enrollment records why and its open step leaves the queue."""
    ended = 0
    for enrollment in Enrollment.objects.filter(
        lead_id__in=lead_ids, state=Enrollment.State.ACTIVE
    ).select_related("cadence"):
        label = Enrollment.State(state).label
        _end(
            enrollment,
            state,
            now,
            by,
            f"{enrollment.cadence}: {label.lower()}" + (f" ({reason})" if reason else ""),
        )
        ended += 1
    if ended:
        WorkItem.objects.open().filter(work.subject_filter(Lead, lead_ids), kind__in=STEP_KINDS).update(
            state=WorkItem.State.CANCELLED, completed_at=now
        )
    return ended


def _end(enrollment: Enrollment, state: str, now: datetime, by, message: str) -> None:
    enrollment.state = state
    enrollment.ended_at = now
    enrollment.step = None
    enrollment.save(update_fields=["state", "ended_at", "step"])
    LeadEvent.objects.create(
        lead_id=enrollment.lead_id, kind=LeadEvent.Kind.CADENCE, at=now, actor=by, message=message[:500]
    )


def stop(*, lead_id: int, by: User, now: datetime | None = None) -> int:
    """The SDR stops a lead's cadence by hand."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if by.is_sdr and lead.owner_id != by.pk:
            raise CadenceError("This lead is not in your queue.")
        ended = end_enrollments(
            lead_ids=[lead.pk], state=Enrollment.State.STOPPED, now=now, by=by, reason=f"by {by}"
        )
        if not ended:
            raise CadenceError("This lead is not in a cadence.")
    return ended
