"""Inbound qualification: campaigns, web forms, leads, activities, the timeline, scoring
configuration and CSV imports."""

import secrets
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# The engagement key of a lead with no engagement at all: far below any real key (a real
# key is log2(points) plus the half-lives since 2020, so well above -1000), which keeps the
# column NOT NULL and lets ordering and range filters need no NULL cases.
NO_ENGAGEMENT = -1.0e9


class Channel(models.TextChoices):
    WEB = "web", "Web"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    EMAIL = "email", "Email marketing"
    SOCIAL = "social", "Social media"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    EVENT = "event", "Event / trade show"
    WEBINAR = "webinar", "Webinar"
    PHONE = "phone", "Phone inquiry"
    LIST = "list", "Purchased list"
    DIRECT = "direct", "Direct traffic"
    OFFLINE = "offline", "Offline"
    OUTBOUND = "outbound", "Outbound prospecting"
    OTHER = "other", "Other"


class Campaign(models.Model):
    """A marketing effort that brings in leads, with its channel and what it cost."""

    name = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    cost = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # The insight refresh looks up the campaigns edited since its last run (a channel
        # edited changes the facts of every lead of the campaign): a range, not a scan.
        indexes = [models.Index(fields=["updated_at"], name="campaign_updated")]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="campaign_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A campaign that cost something needs its run (start and end), so its cost can be
        spread over the days it ran: cost per lead, per qualified opportunity and return on
        spend are counted from that spread (``insight.money``). Without an end, the whole
        cost would land on one day and every period after it would look free."""
        super().clean()
        if self.cost and self.cost > 0:
            missing = {
                name: "A campaign with a cost needs its run's first and last day, to spread the cost over it."
                for name in ("starts_on", "ends_on")
                if getattr(self, name) is None
            }
            if missing:
                raise ValidationError(missing)
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The run ends on or after its first day."})


class ActivityKind(models.TextChoices):
    VISIT = "visit", "Website visit"
    DOWNLOAD = "download", "Content download"
    DEMO_VIEW = "demo_view", "Demo video viewed"
    EMAIL_OPEN = "email_open", "Email opened"
    EMAIL_CLICK = "email_click", "Email link clicked"
    FORM_FILL = "form_fill", "Form filled"
    WEBINAR = "webinar", "Webinar attended"
    EVENT = "event", "Event visit"
    CALL_ANSWERED = "call_answered", "Call answered"
    MEETING_REQUEST = "meeting_request", "Asked for a call"
    IMPORTED = "imported", "Imported from a CRM export"
    # Touches: what a rep does to reach the prospect (logged from the queue).
    CALL = "call", "Call"
    EMAIL = "email", "Email sent"
    VOICEMAIL = "voicemail", "Voicemail left"
    SOCIAL = "social", "Social message"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"


TOUCH_KINDS = (
    ActivityKind.CALL,
    ActivityKind.EMAIL,
    ActivityKind.VOICEMAIL,
    ActivityKind.SOCIAL,
    ActivityKind.MEETING_BOOKED,
)


class TouchOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    REPLIED = "replied", "Replied"
    MEETING_SET = "meeting_set", "Meeting set"
    NOT_INTERESTED = "not_interested", "Not interested"
    WRONG_CONTACT = "wrong_contact", "Wrong contact / bad number"


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


class WebForm(models.Model):
    """A public form on a marketing site. Its key ties each submission to a campaign."""

    name = models.CharField(max_length=200)
    key = models.CharField(max_length=40, unique=True, default=new_form_key)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="forms")
    is_active = models.BooleanField(default=True)
    activity_kind = models.CharField(
        max_length=20,
        choices=ActivityKind.choices,
        default=ActivityKind.FORM_FILL,
        help_text="What a submission counts as for engagement (a demo request, a download...).",
    )
    thank_you_message = models.CharField(max_length=500, default="Thank you! We will be in touch shortly.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # The public endpoint looks its form up on every post; each web process keeps what it
    # read for this long, so deactivating a form takes effect within it.
    CACHE_SECONDS = 30
    _cache: dict[str, tuple[float, "WebForm | None"]] = {}

    @classmethod
    def active(cls, key: str) -> "WebForm | None":
        """The active form with this key (``None`` for an unknown or inactive key)."""
        import time

        if len(key) > 40:
            return None
        cached = cls._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = cls.objects.select_related("campaign").filter(key=key, is_active=True).first()
        if len(cls._cache) > 1000:
            cls._cache.clear()
        cls._cache[key] = (time.monotonic() + cls.CACHE_SECONDS, found)
        return found

    def forget_cached(self) -> None:
        self._cache.pop(self.key, None)


class WebSubmission(models.Model):
    """A web-form submission, validated and stored at the door, captured by a worker moments
    later (``services.process_submissions``), then deleted: the lead, its activity and its
    timeline hold it from then on. Only a submission that could not be captured stays, with
    ``failure`` saying why.

    The public endpoint only validates and inserts this row, so a burst of traffic or a slow
    scoring path never slows or loses a marketing site's form post. ``received_at`` becomes the
    lead's capture time, so speed to lead counts from the prospect's click.
    """

    web_form = models.ForeignKey(WebForm, on_delete=models.PROTECT, related_name="submissions")
    received_at = models.DateTimeField(default=timezone.now)
    email = models.CharField(max_length=254)
    details = models.JSONField(default=dict)
    hand_raiser = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=2000)
    processed_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["id"], name="submission_pending", condition=Q(processed_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.email} via {self.web_form_id} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class Seniority(models.TextChoices):
    C_LEVEL = "c_level", "C-level / founder"
    VP = "vp", "VP"
    DIRECTOR = "director", "Director / head"
    MANAGER = "manager", "Manager"
    INDIVIDUAL = "individual", "Individual contributor"
    UNKNOWN = "", "Unknown"


class FitField(models.TextChoices):
    INDUSTRY = "industry", "Industry"
    EMPLOYEES = "employees", "Employee count"
    ANNUAL_REVENUE = "annual_revenue", "Annual revenue"
    SENIORITY = "seniority", "Seniority (from title)"
    COUNTRY = "country", "Country"


NUMERIC_FIT_FIELDS = {FitField.EMPLOYEES, FitField.ANNUAL_REVENUE}


class IdealCustomerProfile(models.Model):
    """The ideal-customer profile: weighted criteria a lead's fit score is measured against.

    Only one profile is active. Saving criteria schedules a set-based re-score of every lead.
    """

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_icp")
        ]

    def __str__(self) -> str:
        return self.name


class FitCriterion(models.Model):
    """One weighted criterion of the profile: a set of accepted values or a numeric range."""

    profile = models.ForeignKey(IdealCustomerProfile, on_delete=models.CASCADE, related_name="criteria")
    field = models.CharField(max_length=20, choices=FitField.choices)
    values = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated accepted values (industry names, seniorities, ISO country codes).",
    )
    minimum = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    points = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["profile", "-points", "id"]
        verbose_name_plural = "fit criteria"
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="criterion_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.describe()} (+{self.points})"

    @cached_property
    def accepted(self) -> frozenset[str]:
        """The accepted values, normalized once per criterion (scoring runs per lead)."""
        return frozenset(self.value_list())

    def value_list(self) -> list[str]:
        from .cleaning import normalize_fit_value

        return [v for v in (normalize_fit_value(self.field, p) for p in self.values.split(",")) if v]

    def describe(self) -> str:
        if self.field == FitField.SENIORITY:
            return ", ".join(str(Seniority(v).label) for v in self.value_list())
        if self.field in NUMERIC_FIT_FIELDS:
            low = f"{self.minimum:,.0f}" if self.minimum is not None else "any"
            high = f"{self.maximum:,.0f}" if self.maximum is not None else "any"
            return f"{low} to {high}"
        return ", ".join(self.value_list())

    def clean(self) -> None:
        if self.field in NUMERIC_FIT_FIELDS:
            if self.minimum is None and self.maximum is None:
                raise ValidationError("A numeric criterion needs a minimum, a maximum or both.")
            if self.minimum is not None and self.maximum is not None and self.maximum < self.minimum:
                raise ValidationError({"maximum": "The maximum must not be below the minimum."})
        elif not self.value_list():
            raise ValidationError({"values": "List at least one accepted value."})


class ScoringSettings(models.Model):
    """Engagement decay and the thresholds that move leads between marketing and the SDRs.

    A single row (pk=1), created on first use.
    """

    half_life_days = models.FloatField(default=14.0, validators=[MinValueValidator(0.5)])
    mql_threshold = models.FloatField(
        default=40.0,
        validators=[MinValueValidator(1)],
        help_text="Engagement at which a lead becomes an MQL.",
    )
    cold_threshold = models.FloatField(
        default=10.0,
        validators=[MinValueValidator(0.01)],
        help_text="An untouched MQL whose engagement decays below this goes back to nurture.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "scoring settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="scoring_settings_singleton"),
            models.CheckConstraint(condition=Q(cold_threshold__lt=F("mql_threshold")), name="cold_below_mql"),
        ]

    def __str__(self) -> str:
        return "Scoring settings"

    @classmethod
    def load(cls) -> "ScoringSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


# What a person or a system may record; imports are recorded only by the importer.
# What a capture (form, API) may record: the prospect's doings, not an import or a rep's touch.
CAPTURABLE_ACTIVITIES = [
    (k, label) for k, label in ActivityKind.choices if k != ActivityKind.IMPORTED and k not in TOUCH_KINDS
]

DEFAULT_ACTIVITY_POINTS = {
    ActivityKind.VISIT: 2,
    ActivityKind.DOWNLOAD: 10,
    ActivityKind.DEMO_VIEW: 15,
    ActivityKind.EMAIL_OPEN: 1,
    ActivityKind.EMAIL_CLICK: 5,
    ActivityKind.FORM_FILL: 20,
    ActivityKind.WEBINAR: 15,
    ActivityKind.EVENT: 10,
    ActivityKind.CALL_ANSWERED: 10,
    ActivityKind.MEETING_REQUEST: 40,
    ActivityKind.IMPORTED: 0,
}


class ActivityWeight(models.Model):
    """How many engagement points one activity of a kind is worth (editable by marketing/ops)."""

    kind = models.CharField(max_length=20, choices=ActivityKind.choices, unique=True)
    points = models.FloatField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["kind"]
        constraints = [models.CheckConstraint(condition=Q(points__gte=0), name="weight_not_negative")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.points:g}"


class LeadQuerySet(models.QuerySet):
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
    TRANSITIONS = {
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

    external_id = models.CharField(max_length=64, blank=True)
    external_status = models.CharField(max_length=100, blank=True)
    external_created_at = models.DateTimeField(null=True, blank=True)

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
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fit_score__lte=100), name="fit_score_at_most_100"),
            models.CheckConstraint(condition=~Q(email=""), name="lead_email_not_empty"),
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
        from .scoring import engagement_value

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
        from .scoring import engagement_digit

        return f"{self.fit_grade}{engagement_digit(self.engagement_key, now, half_life_days)}"


class ActivitySource(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    API = "api", "API"
    IMPORT = "import", "CSV import"
    MANUAL = "manual", "Logged by a person"


class Activity(models.Model):
    """Something the prospect did (or a rep did with them) that counts toward engagement."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
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

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="activity_lead_time")]

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

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
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


def import_upload_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{secrets.token_hex(8)}.csv"


class ImportJob(models.Model):
    """One CSV import: the uploaded file, its progress, and its counts. Refused rows are
    reported one by one in ``ImportRowError``."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=import_upload_path)
    original_name = models.CharField(max_length=255)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file_format = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last committed batch.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], name="import_queued", condition=Q(state="queued")),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.original_name})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportRowError(models.Model):
    """A refused row of an import: its line number in the file and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="import_error_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
