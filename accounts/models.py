"""Closing: accounts and their contacts, the opportunities SDRs hand to AEs, and the pipeline
those opportunities move through until they are won or lost.

An opportunity is born in ``handed_off`` with the SDR's qualification notes; the AE accepts it
(it enters the pipeline at the first open stage) or rejects it with a reason (it stays, as
``rejected``, for the acceptance-rate metrics, and its lead goes back to the SDR). Every change
writes an ``OpportunityEvent``, so the handoff, acceptance and closing moments the metrics
need are rows with their times, not text.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from leads.models import Campaign, Lead
from team.models import Role

# A loss this soon after the AE accepted means the SDR handed off too early: managers see it.
EARLY_LOSS_DAYS = 14


class AccountQuerySet(models.QuerySet["Account"]):
    def targets_of(self, user) -> "AccountQuerySet":
        """The target accounts an outbound SDR prospects."""
        return self.filter(prospector=user)


class Account(models.Model):
    """A company: matched by its web domain when a lead is handed off, or named as a target
    account for an outbound SDR to prospect."""

    name = models.CharField(max_length=200)
    domain = models.CharField(
        max_length=253, blank=True, help_text="The company's web domain, e.g. acme.com (lower case)."
    )
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    employees = models.PositiveIntegerField(null=True, blank=True)
    prospector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="target_accounts",
        limit_choices_to={"role": "outbound_sdr"},
        help_text="The outbound SDR who prospects this target account; empty: not a target.",
    )
    # Account management (the renewals app writes these): a won opportunity makes the account
    # a customer and gives it an account manager.
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_accounts",
        limit_choices_to={"role": "am"},
        help_text="The AM who owns this customer: renewals, expansion leads, churn risk.",
    )
    customer_since = models.DateTimeField(null=True, blank=True)
    churned_at = models.DateTimeField(
        null=True, blank=True, help_text="When its last contract churned; empty while a customer."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(
                fields=["prospector", "name"], name="account_targets", condition=Q(prospector__isnull=False)
            ),
            models.Index(
                fields=["account_manager", "name"],
                name="account_book",
                condition=Q(account_manager__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"),
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="account_domain_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # The account page shows contracts, so it lives in the renewals app, above this one.
        return reverse("renewals:account", args=[self.pk])

    @property
    def is_target(self) -> bool:
        return self.prospector_id is not None

    @property
    def is_customer(self) -> bool:
        return self.customer_since is not None and self.churned_at is None


class AccountRedirect(models.Model):
    """An account merged into another (``dedupe``): its old id answers with the survivor."""

    old_id = models.PositiveBigIntegerField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"account {self.old_id} -> {self.account_id}"


class Contact(models.Model):
    """A person at an account. A contact made from a lead (at handoff, or a prospect added on
    a target account) keeps the link, so the lead's timeline and the account meet."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    lead = models.OneToOneField(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact"
    )
    email = models.CharField(max_length=254, unique=True, help_text="Normalized: trimmed, lower case.")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["account", "last_name"], name="contact_account")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Stage(models.Model):
    """A pipeline stage, edited in the admin. Open stages are worked in ``position`` order; a
    stage of kind won or lost closes the opportunity."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=50, unique=True)
    position = models.PositiveSmallIntegerField(default=100)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(100)], help_text="Percent chance of winning, for forecasts."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["won", "lost"], is_active=True),
                name="one_active_closing_stage",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN


class Qualification(models.TextChoices):
    """How far one BANT criterion is confirmed."""

    CONFIRMED = "confirmed", "Confirmed"
    PARTLY = "partly", "Partly"
    UNKNOWN = "unknown", "Not yet known"


REJECT_REASONS = (
    "Not qualified: no budget",
    "Not qualified: not the decision maker",
    "Not qualified: no real need",
    "Timing: not buying this year",
    "Wrong territory or segment",
    "Duplicate of an existing opportunity",
    "Already a customer",
    "Other",
)
LOST_REASONS = (
    "Price",
    "Chose a competitor",
    "No decision / went dark",
    "Missing features",
    "Timing: project postponed",
    "Budget cut",
    "Other",
)


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def visible_to(self, user) -> "OpportunityQuerySet":
        """AEs see the opportunities they own (and handoffs waiting in their team); SDRs those they handed off; managers their
        teams' (an AE team's, or an SDR team's handoffs); marketing and superusers all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.role == Role.MARKETING:
            return self
        if user.role == Role.AE:
            if user.team_id is None:
                return self.filter(owner=user)
            # And the handoffs still waiting in their team: a teammate may cover one (see
            # ``accept_handoff``), so they may read it first.
            return self.filter(
                Q(owner=user) | Q(status=Opportunity.Status.HANDED_OFF, owner__team_id=user.team_id)
            )
        if user.is_sdr:
            return self.filter(sdr=user)
        if user.role == Role.AM:
            # Their own renewal and expansion opportunities, and whatever their customers buy.
            return self.filter(Q(owner=user) | Q(account__account_manager=user))
        if user.role == Role.MANAGER:
            from team.access import managed_teams

            teams = managed_teams(user)
            return self.filter(Q(owner__team__in=teams) | Q(sdr__team__in=teams))
        return self.none()

    def inbox(self) -> "OpportunityQuerySet":
        return self.filter(status=Opportunity.Status.HANDED_OFF)

    def pipeline(self) -> "OpportunityQuerySet":
        return self.filter(status__in=Opportunity.IN_PIPELINE)


class Opportunity(models.Model):
    """A qualified chance to sell, handed by an SDR to an AE, and closed by the AE."""

    class Status(models.TextChoices):
        HANDED_OFF = "handed_off", "Awaiting acceptance"
        REJECTED = "rejected", "Rejected"
        OPEN = "open", "In pipeline"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Origin(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Kind(models.TextChoices):
        NEW_BUSINESS = "new", "New business"
        RENEWAL = "renewal", "Renewal"
        EXPANSION = "expansion", "Upsell / cross-sell"

    # The allowed moves, declared once.
    TRANSITIONS: dict[str, set[str]] = {
        Status.HANDED_OFF: {Status.OPEN, Status.REJECTED},
        Status.OPEN: {Status.OPEN, Status.WON, Status.LOST},
        Status.REJECTED: set(),
        Status.WON: set(),
        Status.LOST: set(),
    }
    IN_PIPELINE = (Status.OPEN, Status.WON, Status.LOST)

    name = models.CharField(max_length=200)
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,  # in opportunity_account
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HANDED_OFF)
    stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,  # served by the inbox and pipeline indexes
        help_text="The AE.",
    )

    # Where it came from: the campaign, the SDR credited, inbound or outbound.
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.INBOUND)
    kind = models.CharField(
        max_length=10,
        choices=Kind.choices,
        default=Kind.NEW_BUSINESS,
        db_default=Kind.NEW_BUSINESS,  # rows written in SQL (benchmarks, baselines) are new business too
        help_text="New business is handed off by an SDR; renewals and upsells belong to the account's AM.",
    )

    # The SDR's qualification (BANT), each with a note.
    budget = models.CharField(max_length=10, choices=Qualification.choices)
    budget_note = models.TextField(blank=True, max_length=2000)
    authority = models.CharField(max_length=10, choices=Qualification.choices)
    authority_note = models.TextField(blank=True, max_length=2000)
    need = models.CharField(max_length=10, choices=Qualification.choices)
    need_note = models.TextField(blank=True, max_length=2000)
    timing = models.CharField(max_length=10, choices=Qualification.choices)
    timing_note = models.TextField(blank=True, max_length=2000)
    asked_for_meeting = models.BooleanField(default=False, help_text="The prospect asked for the meeting.")
    proposed_meeting_at = models.DateTimeField(null=True, blank=True)

    # Closing.
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    close_date = models.DateField(null=True, blank=True, help_text="Expected close date.")
    next_step = models.CharField(max_length=300, blank=True)

    handed_off_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=100, blank=True)
    reject_note = models.TextField(blank=True, max_length=2000)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=100, blank=True)
    lost_note = models.TextField(blank=True, max_length=2000)
    early_loss = models.BooleanField(
        default=False, help_text=f"Lost within {EARLY_LOSS_DAYS} days of acceptance."
    )
    updated_at = models.DateTimeField(auto_now=True)

    work_items = GenericRelation("work.WorkItem", related_query_name="opportunity")

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-handed_off_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            # The AE's inbox.
            models.Index(
                fields=["owner", "handed_off_at"], name="opportunity_inbox", condition=Q(status="handed_off")
            ),
            # Handoffs waiting in a team, oldest first: a walk over the few pending rows only
            # (without it the planner walked every opportunity's handed_off_at: 85 ms at 100k).
            models.Index(
                fields=["handed_off_at"], name="opportunity_pending", condition=Q(status="handed_off")
            ),
            # The AE's pipeline, board and list.
            models.Index(fields=["owner", "status", "stage", "close_date"], name="opportunity_pipeline"),
            models.Index(fields=["sdr", "-handed_off_at"], name="opportunity_sdr"),
            models.Index(fields=["account", "-handed_off_at"], name="opportunity_account"),
            # The moments the metrics need.
            models.Index(fields=["handed_off_at"], name="opportunity_handed_off"),
            models.Index(
                fields=["accepted_at"], name="opportunity_accepted", condition=Q(accepted_at__isnull=False)
            ),
            models.Index(
                fields=["closed_at"], name="opportunity_closed", condition=Q(closed_at__isnull=False)
            ),
            models.Index(
                fields=["-closed_at"], name="opportunity_early_losses", condition=Q(early_loss=True)
            ),
        ]
        constraints = [
            # One live handoff per lead: a second hand-off of the same lead is refused by the
            # database, whatever two tabs do.
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status__in=["handed_off", "open"]),
                name="one_live_opportunity_per_lead",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True), name="amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(stage__isnull=False, accepted_at__isnull=False),
                name="open_opportunity_has_stage",
            ),
            models.CheckConstraint(
                condition=~Q(status="lost") | ~Q(lost_reason=""), name="lost_opportunity_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="rejected_handoff_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:opportunity", args=[self.pk])

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.WON, self.Status.LOST)

    def clean(self) -> None:
        if self.status == self.Status.LOST and not self.lost_reason:
            raise ValidationError({"lost_reason": "A lost opportunity needs a reason."})


class OpportunityEvent(models.Model):
    """One row per change in an opportunity's life: its timeline, and what the handoff,
    acceptance and closing metrics are built from."""

    class Kind(models.TextChoices):
        HANDED_OFF = "handed_off", "Handed off"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        STAGE = "stage", "Stage changed"
        UPDATED = "updated", "Details updated"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_stage = models.CharField(max_length=50, blank=True)
    to_stage = models.CharField(max_length=50, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "-at"], name="opp_event_time"),
            models.Index(fields=["kind", "at"], name="opp_event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Activity(models.Model):
    """Work an AE or an AM logged: a call, a meeting or a note, on an account, and on one of
    its opportunities (and with one of its people) when it was about that. The contract page
    logs here too, through ``renewals`` (which keeps the contract it was logged on, since
    contracts live above this app)."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    # A call or a meeting is talking to the customer; a note is not.
    TALKS = (Kind.CALL, Kind.MEETING)

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities", db_index=False)
    opportunity = models.ForeignKey(
        Opportunity,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # in activity_opportunity
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    note = models.TextField(blank=True, max_length=2000)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            # Each timeline reads its newest rows in index order.
            models.Index(fields=["account", "-at", "-id"], name="activity_account"),
            models.Index(
                fields=["opportunity", "-at", "-id"],
                name="activity_opportunity",
                condition=Q(opportunity__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["call", "meeting", "note"]), name="activity_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
