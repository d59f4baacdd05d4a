"""The lead, what happened to it (activities) and its timeline (events)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Now
from django.utils import timezone

from kit.bulk import AnyOf

from .campaigns import Campaign
from .choices import ActivityKind, ActivitySource, Channel, Seniority, TouchOutcome

# The engagement key of a lead with no engagement at all: far below any real key (a real
# key is log2(points) plus the half-lives since 2020, so well above -1000), which keeps the
# column NOT NULL and lets ordering and range filters need no NULL cases.
NO_ENGAGEMENT = -1.0e9


class LeadQuerySet(models.QuerySet["Lead"]):
    def visible_to(self, user) -> "LeadQuerySet":
        """The leads a user may see: all for managers and marketing/ops, their own for SDRs,
        none for AEs and AMs (they receive handed-off opportunities, never raw leads)."""
        if not user.is_authenticated:
            return self.none()
        if user.sees_all_leads:
            return self
        if user.is_sdr:
            return self.filter(owner=user)
        return self.none()

    def with_list_relations(self) -> "LeadQuerySet":
        return self.select_related("campaign", "owner")

    def order_by_grade(self) -> "LeadQuerySet":
        """Best grade first: fit letter, then today's engagement (the stored decay key orders
        exactly as today's decayed value does)."""
        return self.order_by("fit_grade", "-engagement_key", "-id")

    def order_by_engagement(self) -> "LeadQuerySet":
        return self.order_by("-engagement_key", "-id")


class Lead(models.Model):
    """A person marketing brought in, tracked from capture to its conclusion.

    ``email`` is normalized (trimmed, lower case) and unique: a repeat visitor becomes a new
    activity on the same lead. Engagement is stored as ``engagement_key`` on a fixed time base
    (see ``leads.scoring``): ordering by it is ordering by today's decayed engagement.
    """

    class Status(models.TextChoices):
        NURTURE = "nurture", "Nurture"
        MQL = "mql", "MQL"
        WORKING = "working", "Working (SDR)"
        HANDED_OFF = "handed_off", "Handed off"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        DISQUALIFIED = "disqualified", "Disqualified"
        RECYCLED = "recycled", "Recycled"

    # The allowed moves, declared once. ``None`` is a lead being captured.
    TRANSITIONS: dict[str | None, set[str]] = {
        # An outbound prospect starts in its SDR's hands (working), not in marketing's.
        None: {Status.NURTURE, Status.MQL, Status.WORKING},
        Status.NURTURE: {Status.MQL, Status.DISQUALIFIED},
        Status.MQL: {Status.WORKING, Status.NURTURE, Status.DISQUALIFIED},
        Status.WORKING: {Status.HANDED_OFF, Status.NURTURE, Status.DISQUALIFIED},
        Status.HANDED_OFF: {Status.WORKING, Status.WON, Status.LOST, Status.NURTURE},
        Status.WON: set(),
        Status.LOST: {Status.RECYCLED},
        Status.DISQUALIFIED: {Status.RECYCLED},
        Status.RECYCLED: {Status.NURTURE, Status.MQL},
    }

    class Rating(models.TextChoices):
        A = "A", "A (hot)"
        B = "B", "B (warm)"
        C = "C", "C (cold)"
        F = "F", "F (no fit)"
        NONE = "", "Not rated"

    email = models.CharField(max_length=254, unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=150, blank=True)
    seniority = models.CharField(max_length=12, choices=Seniority.choices, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    source = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NURTURE)
    status_reason = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # served by the (owner, status) index; one index less to maintain per move
    )
    team = models.ForeignKey(
        "team.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="The team the lead was routed to; empty until routed.",
    )
    hand_raiser = models.BooleanField(default=False, help_text="The prospect asked for a call.")
    rating = models.CharField(max_length=1, choices=Rating.choices, blank=True)

    fit_score = models.PositiveSmallIntegerField(default=0)
    fit_grade = models.CharField(max_length=1, default="D")
    engagement_key = models.FloatField(default=NO_ENGAGEMENT)
    # The learned probability that the lead becomes an accepted opportunity, written by the
    # ``propensity`` app (above ``leads``) after each training and at capture, and the id of
    # the model version that computed it (an id, not a foreign key: ``leads`` knows nothing of
    # that app's tables). Empty until a model has been trained on enough history.
    propensity = models.FloatField(null=True, blank=True)
    propensity_version = models.PositiveIntegerField(null=True, blank=True)

    external_id = models.CharField(max_length=64, blank=True)
    # The database defaults of the fields added with imports keep bulk inserts in SQL (the
    # bench generators, a DBA's load) working without naming them.
    external_system = models.CharField(
        max_length=20,
        blank=True,
        db_default="",
        help_text="Which system the external id is from (salesforce, hubspot, ...).",
    )
    external_status = models.CharField(max_length=100, blank=True)
    external_created_at = models.DateTimeField(null=True, blank=True)
    source_attributes = models.JSONField(
        default=dict,
        db_default={},
        blank=True,
        help_text="What the source system said that Refinery has no field for (score, stage).",
    )
    tags = models.ManyToManyField("leads.Tag", blank=True, related_name="leads")

    # When the person was first seen anywhere: the source system's created date for an
    # imported lead, else the capture. Insight's cohorts count from it.
    first_seen_at = models.DateTimeField(default=timezone.now, db_default=Now())

    captured_at = models.DateTimeField(default=timezone.now)
    mql_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Work items whose subject is this lead; ``related_query_name`` lets the queue order work
    # items by their lead's grade with a join (``lead__fit_grade``).
    work_items = GenericRelation("work.WorkItem", related_query_name="lead")

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-captured_at", "-id"]
        indexes = [
            # The threshold sweep visits only the leads that crossed: each partial index holds
            # just the candidates for one crossing, ordered by the decay key.
            models.Index(
                fields=["engagement_key"],
                name="lead_promotion_candidates",
                condition=Q(status__in=["nurture", "recycled"]),
            ),
            models.Index(
                fields=["engagement_key"],
                name="lead_cooling_candidates",
                # Once routed, a lead is the SDR team's to work or disposition: it never cools.
                condition=Q(status="mql", owner__isnull=True, team__isnull=True, hand_raiser=False),
            ),
            # Sales-ready leads nobody owns yet: the routing sweep's work.
            models.Index(
                fields=["mql_at"], name="lead_awaiting_owner", condition=Q(status="mql", owner__isnull=True)
            ),
            models.Index(fields=["fit_grade", "-engagement_key"], name="lead_grade_order"),
            models.Index(fields=["-engagement_key"], name="lead_engagement_order"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            models.Index(fields=["-captured_at", "-id"], name="lead_captured"),
            models.Index(fields=["mql_at"], name="lead_mql_at", condition=Q(mql_at__isnull=False)),
            models.Index(fields=["hand_raiser"], name="lead_hand_raisers", condition=Q(hand_raiser=True)),
            models.Index(fields=["first_seen_at"], name="lead_first_seen"),
            # A re-import matches a row to its lead by the source system's id.
            # The source's id first: an import looks up a batch's ids with "IN (...)", which
            # is then the index condition whatever the statistics say of the system (stale
            # during an import, they once made PostgreSQL filter every Salesforce lead).
            models.Index(
                fields=["external_id", "external_system"],
                name="lead_external_id",
                condition=~Q(external_id=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fit_score__lte=100), name="fit_score_at_most_100"),
            models.CheckConstraint(condition=~Q(email=""), name="lead_email_not_empty"),
            models.CheckConstraint(
                condition=Q(propensity__isnull=True) | Q(propensity__gte=0, propensity__lte=1),
                name="lead_propensity_is_a_probability",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("leads:detail", args=[self.pk])

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())

    def engagement(self, now=None, half_life_days: float | None = None) -> float:
        """Today's decayed engagement. Pass ``half_life_days`` when scoring many leads, so the
        settings are read once, not once per lead."""
        from ..scoring import engagement_value

        return engagement_value(self.engagement_key, now, half_life_days)

    def timeline(self, limit: int = 200) -> list:
        """Events and activities, newest first: two queries whatever the lead's history."""
        events = list(self.events.select_related("actor", "campaign")[:limit])
        activities = list(self.activities.select_related("actor", "campaign")[:limit])
        entries = [(e.at, e.pk, "event", e) for e in events] + [
            (a.occurred_at, a.pk, "activity", a) for a in activities
        ]
        entries.sort(key=lambda entry: (entry[0], entry[2], entry[1]), reverse=True)
        return [{"at": at, "type": kind, "item": item} for at, _, kind, item in entries[:limit]]

    def grade(self, now=None, half_life_days: float | None = None) -> str:
        from ..scoring import engagement_digit

        return f"{self.fit_grade}{engagement_digit(self.engagement_key, now, half_life_days)}"


class Activity(models.Model):
    """Something the prospect did (or a rep did with them) that counts toward engagement."""

    # Not indexed alone: ``activity_lead_time`` starts with it (a second index on the largest
    # table would cost every write and gigabytes at a hundred million rows, for nothing).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities", db_index=False)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    points = models.FloatField(default=0)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=12, choices=ActivitySource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    outcome = models.CharField(max_length=16, choices=TouchOutcome.choices, blank=True)
    # The import whose row said the person did this (its undo removes it).
    import_job = models.ForeignKey(
        "leads.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # in activity_import (partial: only the few rows an import wrote)
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead_time"),
            models.Index(
                fields=["import_job"], name="activity_import", condition=Q(import_job__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.points:g})"


class LeadEvent(models.Model):
    """One row per change in a lead's life: the timeline, and what the metrics are built from."""

    class Kind(models.TextChoices):
        CAPTURED = "captured", "Captured"
        RECAPTURED = "recaptured", "Seen again"
        STATUS = "status", "Status changed"
        HAND_RAISED = "hand_raised", "Asked for a call"
        RATED = "rated", "Rating set"
        UPDATED = "updated", "Details updated"
        ROUTED = "routed", "Routed"
        REASSIGNED = "reassigned", "Reassigned"
        FOLLOW_UP = "follow_up", "Follow-up set"
        HANDOFF = "handoff", "Handoff"
        CADENCE = "cadence", "Cadence"
        OPPORTUNITY = "opportunity", "Opportunity"

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # in event_lead_time
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=12, choices=ActivitySource.choices, blank=True)
    from_status = models.CharField(max_length=16, choices=Lead.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Lead.Status.choices, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="event_lead_time"),
            models.Index(fields=["kind", "at"], name="event_kind_time"),
            models.Index(fields=["to_status", "at"], name="event_status_time", condition=Q(kind="status")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Tag(models.Model):
    """A label on leads, set by an import (or by hand in the admin); names are unique whatever
    their case."""

    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class LeadRedirectQuerySet(models.QuerySet["LeadRedirect"]):
    def survivors_by_email(self, emails: "set[str]", *, lock: bool = False) -> dict[str, Lead]:
        """The survivor each of these emails (normalised) reaches through a merge: one indexed
        query, for the emails no lead has (a capture or an import asks only for those). With
        ``lock`` the survivors are locked, as the leads found by their own email are. The most
        recent merge wins when an address was left twice."""
        if not emails:
            return {}
        # "<> ''" lets PostgreSQL use the partial index for a long list (an import's batch).
        redirects = (
            # One array parameter, however many addresses (an import asks for thousands).
            self.filter(AnyOf(F("email"), emails))
            .exclude(email="")
            .select_related("lead__owner")  # a refusal names the owner (prospects)
            .order_by("merged_at", "old_id")
        )
        if lock:
            redirects = redirects.select_for_update(of=("lead",))
        return {redirect.email: redirect.lead for redirect in redirects}


class LeadRedirect(models.Model):
    """A lead merged into another (``dedupe``): its old id answers with the survivor, and so
    does the address the survivor no longer has (``email``), so a web form, the API or an import
    with it finds the survivor instead of making the person again."""

    old_id = models.PositiveBigIntegerField(primary_key=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    email = models.CharField(
        max_length=254,
        blank=True,
        default="",
        db_default="",
        help_text="The address the merge left behind (normalised), reaching the survivor.",
    )

    objects = LeadRedirectQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["email"], name="lead_redirect_email", condition=~Q(email=""))]

    def __str__(self) -> str:
        return f"lead {self.old_id} -> {self.lead_id}"
