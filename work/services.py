"""Writes on work items: opening timers, completing and cancelling them, the breach sweep,
escalation and reassignment after a breach.

The sweep is exactly-once by construction: it claims due timers with ``FOR UPDATE SKIP
LOCKED`` and a ``breached_at IS NULL`` condition, and a breach row is unique per work item,
so two sweeps running at once, a sweep run twice, or a sweep catching up after an hour
each record every breach once.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, get_connection
from django.db import connection, models, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from kit.errors import Refused
from team.calendar import Schedule, add_business_minutes
from team.models import BusinessCalendar, Team

from . import registry
from .models import Breach, SlaPolicy, WorkItem, format_minutes

logger = logging.getLogger(__name__)


class WorkError(Refused):
    """A change the current state does not allow; the message says why, for the user."""


# --- calendars and due times ---------------------------------------------------------------


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


def policies_by_key(*keys: str) -> dict[str, SlaPolicy]:
    return {p.key: p for p in SlaPolicy.objects.filter(key__in=keys)}


@dataclass
class NewItem:
    """What to open: the subject, why, for whom, and either a policy or a fixed due time."""

    subject: models.Model
    kind: str
    title: str
    owner_id: int | None
    team_id: int | None
    policy: SlaPolicy | None = None
    due_at: datetime | None = None
    note: str = ""
    # Count the policy's target from here instead of from now (a renewal is due a day after
    # its contract's last day begins, whenever the item was opened).
    start: datetime | None = None


def open_items(
    new: Sequence[NewItem], *, now: datetime | None = None, schedules: Schedules | None = None
) -> list[WorkItem]:
    """Open work items in one INSERT, each due time computed in its team's calendar."""
    if not new:
        return []
    now = now or timezone.now()
    schedules = (schedules or Schedules()).load(n.team_id for n in new)
    content_types = ContentType.objects.get_for_models(*{type(n.subject) for n in new})
    items = []
    for n in new:
        if n.policy is not None:
            due, reassign = due_times(n.policy, n.start or now, schedules.for_team(n.team_id))
        elif n.due_at is not None:
            due, reassign = n.due_at, None
        else:
            raise ValueError("A work item needs a policy or a due time.")
        items.append(
            WorkItem(
                kind=n.kind,
                owner_id=n.owner_id,
                team_id=n.team_id,
                content_type=content_types[type(n.subject)],
                object_id=n.subject.pk,
                title=n.title[:200],
                note=n.note,
                policy=n.policy,
                created_at=now,
                due_at=due,
                reassign_at=reassign,
            )
        )
    return WorkItem.objects.bulk_create(items)


def subject_filter(model: type[models.Model], ids: Iterable[int]) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(model), object_id__in=list(ids))


def complete_items(
    *,
    model: type[models.Model],
    subject_ids: Iterable[int],
    kinds: Sequence[str],
    by=None,
    now: datetime | None = None,
    due_by: datetime | None = None,
) -> list[WorkItem]:
    """Mark the subjects' open items of ``kinds`` done (those due by ``due_by`` only, if
    given); returns the items completed. Items already done are left alone, so completing
    twice is harmless."""
    now = now or timezone.now()
    qs = WorkItem.objects.open().filter(subject_filter(model, subject_ids), kind__in=kinds)
    if due_by is not None:
        qs = qs.filter(due_at__lte=due_by)
    with transaction.atomic():
        items = list(qs.select_for_update(of=("self",)))
        if not items:
            return []
        WorkItem.objects.filter(pk__in=[i.pk for i in items]).update(
            state=WorkItem.State.DONE, completed_at=now, completed_by=by, reassign_at=None
        )
    for item in items:
        item.state, item.completed_at, item.completed_by, item.reassign_at = (
            WorkItem.State.DONE,
            now,
            by,
            None,
        )
    return items


def cancel_items(
    *, model: type[models.Model], subject_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Close every open item of the subjects without doing it (the lead left the queue)."""
    now = now or timezone.now()
    return (
        WorkItem.objects.open()
        .filter(subject_filter(model, subject_ids))
        .update(state=WorkItem.State.CANCELLED, completed_at=now, reassign_at=None)
    )


def move_items(
    *, model: type[models.Model], subject_ids: Iterable[int], owner_id: int | None, team_id: int | None
) -> int:
    """Give the subjects' open items to a new owner (or to a team's unassigned queue). Due
    times stay as promised: the prospect has been waiting the same time either way."""
    return (
        WorkItem.objects.open()
        .filter(subject_filter(model, subject_ids))
        .update(owner_id=owner_id, team_id=team_id)
    )


def acknowledge_breach(*, breach_id: int, by, note: str = "") -> Breach:
    """A manager has seen the breach and says what was done; once only."""
    now = timezone.now()
    updated = Breach.objects.filter(pk=breach_id, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, note=note.strip()[:2000]
    )
    breach = Breach.objects.select_related("acknowledged_by").get(pk=breach_id)
    if not updated:
        raise WorkError(f"This breach was already acknowledged by {breach.acknowledged_by or 'someone'}.")
    return breach


# --- the sweep -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    breached: int
    escalated: int
    reassigned: int


SWEEP_BATCH = 5_000


def sweep_breaches(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> SweepResult:
    """Record every timer past due as a breach (once), email the managers (once), and
    reassign breached items whose policy says so. Safe to run twice or concurrently; a sweep
    that did not run for a while catches up on everything due since."""
    now = now or timezone.now()
    breached = 0
    while True:
        with transaction.atomic():
            count = _mark_breaches(now, batch_size)
        breached += count
        if count < batch_size:
            break
    return SweepResult(
        breached=breached, escalated=escalate_breaches(now=now), reassigned=reassign_due(now=now)
    )


def _mark_breaches(now: datetime, limit: int) -> int:
    if connection.vendor == "postgresql":
        return _mark_breaches_sql(now, limit)
    return _mark_breaches_orm(now, limit)


_MARK_SQL = f"""
WITH due AS (
    SELECT id FROM {WorkItem._meta.db_table}
    WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL AND due_at <= %(now)s
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE {WorkItem._meta.db_table} AS item SET breached_at = %(now)s
    -- = ANY(ARRAY(...)), not a join: the planner would assume the LIMIT's full count and
    -- walk the whole primary key, a cost that grows with history instead of with the due.
    WHERE item.id = ANY(ARRAY(SELECT id FROM due))
    RETURNING item.id, item.policy_id, item.owner_id, item.team_id, item.due_at
)
INSERT INTO {Breach._meta.db_table}
    (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation, note)
SELECT marked.id, marked.policy_id, marked.owner_id, marked.team_id, marked.due_at, %(now)s,
       CASE WHEN policy.escalate_to_manager THEN 'pending' ELSE 'off' END, ''
FROM marked JOIN {SlaPolicy._meta.db_table} AS policy ON policy.id = marked.policy_id
ON CONFLICT (work_item_id) DO NOTHING
"""


def _mark_breaches_sql(now: datetime, limit: int) -> int:
    """One statement: claim due timers (skipping those another sweep holds), mark them, and
    insert their breaches; no Python object per item."""
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SQL, {"now": now, "limit": limit})
        return cursor.rowcount


def _mark_breaches_orm(now: datetime, limit: int) -> int:
    """The portable path (SQLite, the demo): same claim, in three statements."""
    due = list(
        WorkItem.objects.filter(
            state=WorkItem.State.OPEN, breached_at__isnull=True, policy__isnull=False, due_at__lte=now
        )
        .select_related("policy")
        .order_by("due_at")[:limit]
    )
    ids = [item.pk for item in due]
    WorkItem.objects.filter(pk__in=ids, breached_at__isnull=True).update(breached_at=now)
    Breach.objects.bulk_create(
        [
            Breach(
                work_item_id=item.pk,
                policy_id=item.policy_id,  # type: ignore[misc]  # due is filtered on policy__isnull=False
                owner_id=item.owner_id,
                team_id=item.team_id,
                due_at=item.due_at,
                detected_at=now,
                escalation=Breach.Escalation.PENDING
                if item.policy.escalate_to_manager  # type: ignore[union-attr]  # as policy_id above
                else Breach.Escalation.OFF,
            )
            for item in due
        ],
        ignore_conflicts=True,
    )
    return len(due)


ESCALATION_BATCH = 200


def escalate_breaches(*, now: datetime | None = None) -> int:
    """Email each pending breach to its team's manager, at most once.

    Claim first, then send. A batch of pending breaches is claimed (``SKIP LOCKED``, marked
    sent, committed) before any mail goes out, so two sweeps never send the same breach, and a
    worker killed after sending can never send it again. A mail server that refuses a message
    puts that breach and the rest of the batch back to pending for the next sweep. A worker
    killed between the claim and the send loses those emails rather than duplicating them: the
    breach itself is recorded and on the manager's breach review (where managers land) either
    way, and a manager emailed twice for one breach learns to ignore the emails.
    """
    now = now or timezone.now()
    sent = 0
    while True:
        claimed, to_send = _claim_escalations(now)
        done = _send_escalations(to_send)
        sent += done
        if claimed < ESCALATION_BATCH or done < len(to_send):
            return sent  # all claimed, or the mail server refused: the next sweep goes on


def _claim_escalations(now: datetime) -> tuple[int, list[tuple[Breach, EmailMessage]]]:
    """Mark a batch of pending breaches sent (or without a manager) and commit; return how
    many were claimed, and the breaches to email with their messages."""
    with transaction.atomic():
        batch = list(
            Breach.objects.filter(escalation=Breach.Escalation.PENDING)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("policy", "owner", "team__manager", "work_item")
            .prefetch_related("work_item__subject")
            .order_by("id")[:ESCALATION_BATCH]
        )
        to_send, no_manager = [], []
        for breach in batch:
            manager = breach.team.manager if breach.team else None
            if manager is None or not manager.email:
                no_manager.append(breach.pk)
            else:
                to_send.append((breach, _escalation_email(breach, manager)))
        Breach.objects.filter(pk__in=[breach.pk for breach, _ in to_send]).update(
            escalation=Breach.Escalation.SENT, escalated_at=now
        )
        Breach.objects.filter(pk__in=no_manager).update(escalation=Breach.Escalation.NO_MANAGER)
    return len(batch), to_send


def _send_escalations(pairs: list[tuple[Breach, EmailMessage]]) -> int:
    """Send the claimed emails one by one; on a refusal (the mail server is down, say), give
    the unsent breaches back to the next sweep. Returns how many were sent."""
    if not pairs:
        return 0
    done = 0
    try:
        with get_connection(fail_silently=False) as mail_connection:
            for _, message in pairs:
                mail_connection.send_messages([message])
                done += 1
    except Exception:
        unsent = [breach.pk for breach, _ in pairs[done:]]
        Breach.objects.filter(pk__in=unsent, escalation=Breach.Escalation.SENT).update(
            escalation=Breach.Escalation.PENDING, escalated_at=None
        )
        logger.exception("%d escalation emails not sent; the next sweep retries them", len(unsent))
    return done


def _escalation_email(breach: Breach, manager) -> EmailMessage:
    item = breach.work_item
    subject_obj = item.subject
    owner = breach.owner or "nobody (unassigned)"
    url = ""
    if subject_obj is not None and hasattr(subject_obj, "get_absolute_url"):
        url = settings.SITE_URL.rstrip("/") + subject_obj.get_absolute_url()
    lines = [
        f"{item.get_kind_display()} on {subject_obj or item.title} missed its SLA.",
        "",
        f"Policy:  {breach.policy.name} ({breach.policy.describe()})",
        f"Owner:   {owner}",
        f"Team:    {breach.team}",
        f"Due:     {timezone.localtime(breach.due_at):%Y-%m-%d %H:%M %Z}",
        f"Why:     {item.title}",
    ]
    if url:
        lines += ["", f"Open it: {url}"]
    lines += ["", f"Review breaches: {settings.SITE_URL.rstrip('/')}/work/breaches/"]
    return EmailMessage(
        subject=f"[Refinery] SLA breached: {item.get_kind_display().lower()} for {subject_obj or item.title}",
        body="\n".join(lines),
        to=[manager.email],
    )


REASSIGN_BATCH = 200


def reassign_due(*, now: datetime | None = None) -> int:
    """Hand breached items still open past their reassignment time to someone else, through
    the subject app's reassigner. Each item is considered once (its ``reassign_at`` is
    cleared whatever the outcome)."""
    now = now or timezone.now()
    moved_total = 0
    while True:
        with transaction.atomic():
            batch = list(
                WorkItem.objects.filter(state=WorkItem.State.OPEN, reassign_at__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("content_type")
                .order_by("reassign_at")[:REASSIGN_BATCH]
            )
            if not batch:
                return moved_total
            by_model = defaultdict(list)
            for item in batch:
                by_model[item.content_type.model_class()].append(item)
            moved: set[int] = set()
            for model, items in by_model.items():
                reassigner = registry.reassigner_for(model)
                if reassigner is None:
                    logger.warning("No reassigner for %s; %d items stay with their owner", model, len(items))
                    continue
                moved |= reassigner(items)
            WorkItem.objects.filter(pk__in=[i.pk for i in batch]).update(reassign_at=None)
            Breach.objects.filter(work_item_id__in=moved).update(reassigned_at=now)
            moved_total += len(moved)
        if len(batch) < REASSIGN_BATCH:
            return moved_total


def describe_due(item: WorkItem) -> str:
    if item.policy is None:
        return ""
    return f"{item.policy.name}: {format_minutes(item.policy.target_minutes)}"


def at_risk_window() -> timedelta:
    return timedelta(minutes=settings.WORK_AT_RISK_MINUTES)
