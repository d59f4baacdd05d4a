"""Cadences' email steps and nurture tracks' emails.

An **automatic** step sends itself. Its work item (``cadence_step``, opened by
``sdr.services.cadences``) comes due at a business day's opening; ``send_due_steps`` (beat,
every minute) finds the due items whose enrollment is on an automatic email step and writes
that step's email once: ``Message(enrollment, step)`` is unique, so a second sweep at the same
moment loses the insert and does nothing. The email is merged with the lead's and the
sender's values (the sender: the lead's owner in a sales cadence, the track's ``sender`` in a
nurture track), carries the one-click unsubscribe, is tracked when tracking is on, and is
scheduled through the one send service (``sending.schedule``: paced, daily limit, retries) at
the sender's next opening: inside their business hours and the sending window
(``MAIL_SENDING_WINDOW``). When it is sent, ``recording.record_sent`` logs the touch, which
completes the step and schedules the next.

What would make it wrong is not sent: a merge field with no value fails the step's email
(status failed, the reason in its error) and hands the step to the rep, whose queue item says
why (a nurture track, in nobody's queue, ends); a suppressed address ends the cadence
(unsubscribed or bounced). At claim time (``claim_check``, called by ``sending``) an automatic
step's email is cancelled when the cadence moved on or ended meanwhile, and waits for the
opening when pacing or a retry pushed it out of hours.

A **manual** step waits in the SDR's queue; its panel opens the composer with the step's
subject and body (``step_draft``), and ``schedule_email(step_id=...)`` links the email to the
step, so that its sending moves the cadence on like any touch.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from kit.errors import Refused
from leads.models import Lead
from leads.services import IN_SALES
from sdr import services as sdr
from sdr.models import Cadence, Channel, Enrollment
from team.calendar import next_business_instant
from work.models import WorkItem

from .. import merge, tracking
from ..access import may_email_lead
from ..models import Mailbox, Message, Suppression
from .common import MailError, normalize
from .composing import Recipient, merge_values
from .mailboxes import mailbox_for
from .sending import new_message_id, schedule, sender_schedule
from .suppression import refusal, suppressed

# A suppressed address ends the cadence in the state that says why.
ENDS_BY_SUPPRESSION: dict[str, str] = {
    Suppression.Reason.UNSUBSCRIBED: Enrollment.State.UNSUBSCRIBED,
    Suppression.Reason.BOUNCED: Enrollment.State.BOUNCED,
    Suppression.Reason.MANUAL: Enrollment.State.UNSUBSCRIBED,
}
# How far ahead ``step_opening`` looks for a moment both open and inside the window.
MAX_OPENING_DAYS = 400


class StepOutcome:
    SCHEDULED = "scheduled"  # the step's email is written and scheduled
    HELD = "held"  # it could not be written: the step waits for the rep
    ENDED = "ended"  # the cadence ended instead (suppressed address, the lead left)
    SKIPPED = "skipped"  # nothing to do (another sweep wrote it, the cadence moved on)


@dataclass
class StepResult:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def scheduled(self) -> int:
        return self.outcomes.get(StepOutcome.SCHEDULED, 0)


# --- when an automatic email may leave ---------------------------------------------------------


def sending_window() -> tuple[time, time] | None:
    """``MAIL_SENDING_WINDOW`` ("08:00-18:00") as local (opens, closes); None when unset."""
    raw = (getattr(settings, "MAIL_SENDING_WINDOW", "") or "").strip()
    if not raw:
        return None
    opens, _, closes = raw.partition("-")
    window = time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())
    if window[0] >= window[1]:
        raise ValueError(f"MAIL_SENDING_WINDOW={raw!r}: the window closes before it opens.")
    return window


def step_opening(user, instant: datetime) -> datetime:
    """The first moment from ``instant`` at which ``user``'s automatic emails may leave: inside
    their business hours (their team's calendar) and the sending window (in that calendar's
    zone)."""
    schedule = sender_schedule(user)
    window = sending_window()
    moment = instant
    for _ in range(MAX_OPENING_DAYS * 2):
        moment = next_business_instant(schedule, moment)
        if window is None:
            return moment
        local = moment.astimezone(schedule.tz)
        opens = datetime.combine(local.date(), window[0], tzinfo=schedule.tz)
        closes = datetime.combine(local.date(), window[1], tzinfo=schedule.tz)
        if local < opens:
            moment = opens.astimezone(UTC)
        elif local >= closes:
            moment = datetime.combine(local.date() + timedelta(days=1), window[0], tzinfo=schedule.tz)
            moment = moment.astimezone(UTC)
        else:
            return moment
    raise ValueError("The sender's business hours never meet the sending window.")


# --- the sweep -----------------------------------------------------------------------------------


def due_steps(now: datetime) -> QuerySet[Enrollment]:
    """Active enrollments on an automatic email step whose work item is due and whose email is
    not written yet."""
    due_item = WorkItem.objects.filter(
        state=WorkItem.State.OPEN,
        kind=WorkItem.Kind.CADENCE_STEP,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=OuterRef("lead_id"),
        due_at__lte=now,
    )
    written = Message.objects.filter(enrollment=OuterRef("pk"), step=OuterRef("step_id"))
    return (
        Enrollment.objects.filter(
            state=Enrollment.State.ACTIVE,
            step__automatic=True,
            step__channel=Channel.EMAIL,
            manual_reason="",
        )
        .filter(Exists(due_item))
        .exclude(Exists(written))
        .order_by("pk")
    )


def send_due_steps(*, now: datetime | None = None, limit: int = 500) -> StepResult:
    """Beat's sweep of automatic email steps (see the module's docstring): each due step's
    email written once and scheduled, in a transaction of its own with the lead locked (as
    every cadence change is), so a touch logged at the same moment waits or wins cleanly."""
    now = now or timezone.now()
    result = StepResult()
    for enrollment_id in list(due_steps(now).values_list("pk", flat=True)[:limit]):
        result.add(_write_step(enrollment_id, now))
    return result


def _write_step(enrollment_id: int, now: datetime) -> str:
    with transaction.atomic():
        lead_id = Enrollment.objects.filter(pk=enrollment_id).values_list("lead_id", flat=True).first()
        if lead_id is None:
            return StepOutcome.SKIPPED
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        enrollment = (
            Enrollment.objects.select_related("step", "cadence__sender")
            .filter(pk=enrollment_id, state=Enrollment.State.ACTIVE, manual_reason="")
            .first()
        )
        step = enrollment.step if enrollment is not None else None
        if enrollment is None or step is None or not step.automatic or step.channel != Channel.EMAIL:
            return StepOutcome.SKIPPED  # ended or moved on since the sweep read it
        if Message.objects.filter(enrollment=enrollment, step=step).exists():
            return StepOutcome.SKIPPED  # another sweep wrote it first
        nurture = enrollment.cadence.kind == Cadence.Kind.NURTURE
        if nurture and lead.status != Lead.Status.NURTURE:
            _end(lead, Enrollment.State.SALES_READY if lead.status in IN_SALES else None, now)
            return StepOutcome.ENDED
        if not nurture and lead.status not in IN_SALES:
            _end(lead, None, now)
            return StepOutcome.ENDED
        sender = enrollment.cadence.sender if nurture else lead.owner
        if sender is None:
            return _hold(lead, enrollment, now, "nobody to send it as (the lead has no owner).")
        row = suppressed([lead.email]).get(normalize(lead.email))
        if row is not None:
            sdr.cadences.end_enrollments(
                lead_ids=[lead.pk], state=ENDS_BY_SUPPRESSION[row.reason], now=now, reason=refusal(row)
            )
            return StepOutcome.ENDED
        mailbox = mailbox_for(sender)
        try:
            if not lead.email:
                raise MailError("The lead has no email address.")
            rendered = merge.render(
                subject=step.subject,
                body=step.body,
                values=merge_values(sender, Recipient(address=lead.email, lead=lead)),
            )
            if not rendered.subject.strip() or not rendered.body.strip():
                raise MailError("The step has no subject or no body.")
        except Refused as exc:
            # Never a blank: the step's email is failed with the reason, and the rep takes over.
            failed = _message(lead, enrollment, sender, mailbox, step.subject, step.body)
            failed.status, failed.error = Message.Status.FAILED, str(exc)[:500]
            if not _insert_once(failed):
                return StepOutcome.SKIPPED
            return _hold(lead, enrollment, now, str(exc))
        message = _message(lead, enrollment, sender, mailbox, rendered.subject.strip(), rendered.body)
        message.send_at = step_opening(sender, now)
        try:
            with transaction.atomic():
                schedule(message, now=now)
        except IntegrityError:
            return StepOutcome.SKIPPED
    return StepOutcome.SCHEDULED


def _message(
    lead: Lead, enrollment: Enrollment, sender, mailbox: Mailbox, subject: str, body: str
) -> Message:
    return Message(
        direction=Message.Direction.OUT,
        mailbox=mailbox,
        sender=sender,
        lead=lead,
        enrollment=enrollment,
        step=enrollment.step,
        from_address=mailbox.from_header,
        to_address=lead.email,
        subject=subject[:300],
        body=body,
        # Every cadence email carries the one-click unsubscribe (RFC 8058) and a footer link.
        unsubscribe_link=True,
        tracked=tracking.tracking_enabled(),
    )


def _insert_once(message: Message) -> bool:
    """Save a step's email unless one exists for its enrollment and step (the unique
    constraint decides, in a savepoint)."""
    message.message_id = message.message_id or new_message_id(message.from_address)
    message.created_at = timezone.now()
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return False
    return True


def _hold(lead: Lead, enrollment: Enrollment, now: datetime, reason: str) -> str:
    assert enrollment.step_id is not None
    sdr.cadences.hold_step(lead_id=lead.pk, step_id=enrollment.step_id, reason=reason, now=now)
    return StepOutcome.HELD


def _end(lead: Lead, state: str | None, now: datetime) -> None:
    """The lead is no longer where its cadence writes to (out of nurture, out of the queue)."""
    sdr.cadences.end_enrollments(
        lead_ids=[lead.pk],
        state=state or Enrollment.State.STOPPED,
        now=now,
        reason=f"the lead is in {lead.get_status_display().lower()}",
    )


# --- claim time ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What ``claim_check`` says of a step's email about to be claimed: cancel it (why), or
    send it later (when); neither: send it now."""

    cancel: str = ""
    later: datetime | None = None


def claim_check(message: Message, mailbox: Mailbox, now: datetime) -> Verdict:
    """Called under the mailbox lock before an automatic step's email is claimed: the cadence
    must still be on that step (a touch or a reply since it was written moves it on or ends it:
    sending it would skip a step), a nurture track's lead still in nurture, and the moment
    inside the sender's opening (pacing and retries can push it out of hours)."""
    if message.enrollment_id is None or message.step is None or not message.step.automatic:
        return Verdict()  # a person's email (a manual step's too): sent as they scheduled it
    enrollment = Enrollment.objects.select_related("cadence", "lead").filter(pk=message.enrollment_id).first()
    if (
        enrollment is None
        or enrollment.state != Enrollment.State.ACTIVE
        or enrollment.step_id != message.step_id
    ):
        return Verdict(cancel="The cadence moved on or ended before this step's email left.")
    lead = enrollment.lead
    if enrollment.cadence.kind == Cadence.Kind.NURTURE and lead.status != Lead.Status.NURTURE:
        _end(lead, Enrollment.State.SALES_READY if lead.status in IN_SALES else None, now)
        return Verdict(cancel=f"The lead left nurture ({lead.get_status_display().lower()}).")
    opening = step_opening(mailbox.user, now)
    if opening > now:
        return Verdict(later=opening)
    return Verdict()


def end_for_suppression(message: Message, row: Suppression, now: datetime) -> None:
    """A step's email found its address suppressed at claim time: the cadence ends too."""
    if message.enrollment_id is None or message.lead_id is None:
        return
    sdr.cadences.end_enrollments(
        lead_ids=[message.lead_id], state=ENDS_BY_SUPPRESSION[row.reason], now=now, reason=refusal(row)
    )


# --- manual steps: the composer --------------------------------------------------------------------


@dataclass(frozen=True)
class StepDraft:
    """A manual (or held) email step as the composer starts from it: the step's subject and
    body with their merge fields, and what to call it."""

    step_id: int
    subject: str
    body: str
    label: str


def step_draft(*, sender, lead_id: int, step_id: int) -> StepDraft | None:
    """The email step ``step_id`` of ``lead_id``'s active cadence, if ``sender`` may email the
    lead and the cadence is on that step; None otherwise (the composer starts blank)."""
    enrollment = (
        Enrollment.objects.select_related("step", "cadence", "lead")
        .filter(lead_id=lead_id, state=Enrollment.State.ACTIVE, step_id=step_id, step__channel=Channel.EMAIL)
        .first()
    )
    if enrollment is None or enrollment.step is None or not may_email_lead(sender, enrollment.lead):
        return None
    step = enrollment.step
    return StepDraft(
        step_id=step.pk,
        subject=step.subject,
        body=step.body,
        label=f"{enrollment.cadence}: step {step.position}",
    )
