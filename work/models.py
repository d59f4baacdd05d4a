"""What someone must do by when: work items, the SLA policies that time them, and breaches.

``work`` knows nothing of the apps above it: a work item points at its subject (a lead today;
a handoff or a contract later) through a generic relation, and the apps that own subjects
register what reassigning one means (see ``work.registry``).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SlaPolicy(models.Model):
    """How long the owner of a work item has, counted in business hours or on the wall clock,
    and what happens when the time runs out.

    Policies are found by ``key`` (code asks for "first-touch-hand-raiser"); everything else
    is edited in the admin. A change applies to items created after it: an item keeps the due
    time it was promised.
    """

    class Mode(models.TextChoices):
        BUSINESS = "business", "Business hours (owner's team calendar)"
        WALL_CLOCK = "wall_clock", "Wall clock (24/7)"

    FIRST_TOUCH_HAND_RAISER = "first-touch-hand-raiser"
    FIRST_TOUCH_MQL = "first-touch-mql"
    ACCEPT_HANDOFF = "accept-handoff"
    RENEWAL_START = "renewal-start"
    RENEWAL_REMINDER = "renewal-reminder"
    RENEWAL_DUE = "renewal-due"
    EXPANSION_LEAD = "expansion-lead"

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    target_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
        help_text="Time allowed, in minutes (business minutes in business-hours mode).",
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.BUSINESS)
    escalate_to_manager = models.BooleanField(
        default=True, help_text="Email the team's manager once when an item breaches."
    )
    reassign_after_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Reassign a breached item this long after its due time (same mode); empty: never.",
    )
    warn_at_share = models.FloatField(
        null=True,
        blank=True,
        default=0.75,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.99)],
        help_text="Notify the owner when this share of the time has passed (0.75: with a quarter "
        "left), counted like the target; empty: no warning.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        unit = "business" if self.mode == self.Mode.BUSINESS else "wall-clock"
        return f"{format_minutes(self.target_minutes)} ({unit})"


def format_minutes(minutes: int) -> str:
    if minutes % (60 * 24) == 0 and minutes >= 60 * 24:
        days = minutes // (60 * 24)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} min"


def _managed_by(queryset, user):
    """Rows of the teams ``user`` manages (all for a superuser); none for anyone who does not
    manage reps."""
    from team.access import can_manage_reps, managed_teams

    if not can_manage_reps(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(team__in=managed_teams(user))


class WorkItemQuerySet(models.QuerySet["WorkItem"]):
    def visible_to(self, user) -> "WorkItemQuerySet":
        """The items a manager reviews: their teams'."""
        return _managed_by(self, user)

    def open(self) -> "WorkItemQuerySet":
        return self.filter(state=WorkItem.State.OPEN)

    def for_subject(self, subject) -> "WorkItemQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(subject, for_concrete_model=False),
            object_id=subject.pk,
        )

    def at_risk(self, *, now=None, within: timedelta | None = None) -> "WorkItemQuerySet":
        """Open timed items still before their due time and due within ``within`` (default:
        the ``WORK_AT_RISK_MINUTES`` setting). An item past its due time is breached, whether or
        not the sweep has recorded it yet (it does within a minute), never "at risk"."""
        now = now or timezone.now()
        within = within or timedelta(minutes=settings.WORK_AT_RISK_MINUTES)
        return self.open().filter(
            policy__isnull=False, breached_at__isnull=True, due_at__gt=now, due_at__lte=now + within
        )


class WorkItem(models.Model):
    """One thing one person (or, while nobody can take it, one team) must do, by a due time.

    An item with a policy is an SLA timer: the due time is computed when the item is created,
    in the owner's team calendar, and the breach sweep marks it once it passes. Timers are rows,
    not delayed broker messages, so nothing is lost when the broker restarts.
    """

    class Kind(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch"
        FOLLOW_UP = "follow_up", "Follow-up"
        CADENCE_STEP = "cadence_step", "Cadence step"
        CADENCE_FINISHED = "cadence_done", "Cadence finished"
        HANDOFF_RETURNED = "handoff_returned", "Handoff returned"
        ACCEPT_HANDOFF = "accept_handoff", "Accept handoff"
        RENEWAL_START = "renewal_start", "Start the renewal conversation"
        RENEWAL_REMINDER = "renewal_reminder", "Renewal reminder"
        RENEWAL_DUE = "renewal_due", "Renewal due"
        EXPANSION_LEAD = "expansion_lead", "Expansion lead"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_items",
        db_index=False,  # served by the open-queue index
        help_text="Empty while the item waits in its team's unassigned queue.",
    )
    team = models.ForeignKey("team.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # in workitem_subject
    )
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")

    title = models.CharField(max_length=200, help_text="Why this is in the queue.")
    note = models.TextField(blank=True, max_length=2000)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField(null=True, blank=True)
    reassign_at = models.DateTimeField(null=True, blank=True)
    # When the owner is warned that the SLA is about to breach; cleared by the warning sweep's
    # claim (so each item is warned once).
    warn_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # A person's queue: open items only.
            models.Index(fields=["owner", "due_at"], name="workitem_open_queue", condition=Q(state="open")),
            models.Index(
                fields=["team", "due_at"],
                name="workitem_unassigned",
                condition=Q(state="open", owner__isnull=True),
            ),
            # The breach sweep reads only open timers that have not breached yet.
            models.Index(
                fields=["due_at"],
                name="workitem_sla_pending",
                condition=Q(state="open", breached_at__isnull=True, policy__isnull=False),
            ),
            models.Index(
                fields=["reassign_at"],
                name="workitem_reassign_pending",
                condition=Q(state="open", reassign_at__isnull=False),
            ),
            models.Index(
                fields=["warn_at"],
                name="workitem_warn_pending",
                condition=Q(state="open", warn_at__isnull=False),
            ),
            models.Index(fields=["content_type", "object_id"], name="workitem_subject"),
            # Speed to first touch over a period.
            # The breach review's rate: a team's timed items due in a period.
            models.Index(
                fields=["team", "due_at"], name="workitem_team_due", condition=Q(policy__isnull=False)
            ),
            models.Index(
                fields=["kind", "completed_at"], name="workitem_completed", condition=Q(state="done")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open", completed_at__isnull=True) | ~Q(state="open"),
                name="workitem_open_not_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def has_sla(self) -> bool:
        return self.policy_id is not None

    @property
    def met_sla(self) -> bool | None:
        """True when done by its due time, False when done late; None while open or untimed."""
        if not self.has_sla or self.completed_at is None or self.state != self.State.DONE:
            return None
        return self.completed_at <= self.due_at

    def sla_state(self, now=None) -> str:
        """'met', 'late', 'breached', 'at_risk', 'on_track' or '' (no SLA)."""
        if not self.has_sla:
            return ""
        if self.state == self.State.DONE:
            return "met" if self.met_sla else "late"
        if self.state != self.State.OPEN:
            return ""
        now = now or timezone.now()
        if self.breached_at or self.due_at <= now:
            return "breached"
        if self.due_at <= now + timedelta(minutes=settings.WORK_AT_RISK_MINUTES):
            return "at_risk"
        return "on_track"


class BreachQuerySet(models.QuerySet["Breach"]):
    def visible_to(self, user) -> "BreachQuerySet":
        """The breaches a manager reviews: their teams' (all for a superuser)."""
        return _managed_by(self, user)


class Breach(models.Model):
    """An SLA that was missed, recorded once per work item (the unique work item is what makes
    the sweep exactly-once), with what was done about it."""

    class Escalation(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Manager emailed"
        NO_MANAGER = "no_manager", "No manager to email"
        OFF = "off", "Not escalated (policy)"

    work_item = models.OneToOneField(WorkItem, on_delete=models.CASCADE, related_name="breach")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="breaches")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="breaches"
    )
    team = models.ForeignKey("team.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    escalation = models.CharField(max_length=12, choices=Escalation.choices, default=Escalation.PENDING)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reassigned_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)

    objects = BreachQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-due_at"], name="breach_team_time"),
            models.Index(fields=["owner", "-due_at"], name="breach_owner_time"),
            models.Index(fields=["-due_at"], name="breach_time"),
            models.Index(fields=["id"], name="breach_to_escalate", condition=Q(escalation="pending")),
        ]

    def __str__(self) -> str:
        return f"Breach of {self.policy} due {self.due_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.acknowledged_at and not self.acknowledged_by_id:
            raise ValidationError("An acknowledged breach names who acknowledged it.")

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None
