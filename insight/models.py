"""Insight's own tables.

``LeadFact`` is the rollup every funnel, speed and money number is read from: one narrow row
per lead with the moments the services recorded (captured, MQL, routed, first touch, handed
off, accepted, closed) and the dimensions the pages slice by. It is derived data, rebuilt from
the source tables by set-based SQL (``insight.facts``): incrementally every minute for the
leads that changed, and in full at night; a test proves it equals the raw computation.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

# The columns the insight filters and the viewers' rules narrow the facts by.
FILTERED = ("campaign", "channel", "source", "team", "sdr", "ae", "origin", "fit_grade")
FILTER_COLUMNS = ("campaign_id", "channel", "source", "team_id", "sdr_id", "ae_id", "origin", "fit_grade")


def keyed(name: str, *fields: str, condition: Q) -> models.Index:
    """A partial index on ``fields`` followed by every filter column as a further key (not
    INCLUDE: SQLite has none): a count over a range of the first field, whatever the filters
    and the viewer, is then read from the index alone (an index-only scan), not from the
    facts scattered over the table."""
    return models.Index(fields=[*fields, *FILTERED], name=name, condition=condition)


class LeadFact(models.Model):
    """One lead's path through the refinery, flattened."""

    class Origin(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    # Dimensions (what the pages slice and filter by).
    campaign = models.ForeignKey(
        "leads.Campaign",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    channel = models.CharField(max_length=20, blank=True, help_text="The campaign's channel.")
    source = models.CharField(
        max_length=20, blank=True, help_text="How the lead came in (the lead's source)."
    )
    team = models.ForeignKey(
        "team.Team", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        help_text="The SDR who worked the lead: who handed it off, else its owner.",
    )
    ae = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        help_text="The AE who owns the lead's first opportunity.",
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.INBOUND)
    fit_grade = models.CharField(max_length=1, blank=True)
    hand_raiser = models.BooleanField(default=False)
    status = models.CharField(max_length=16, blank=True, help_text="The lead's status now.")

    # Moments (UTC). Each is the first time the lead reached the stage.
    captured_at = models.DateTimeField(help_text="Captured into Refinery: speed to lead counts from it.")
    first_seen_at = models.DateTimeField(
        help_text="First seen anywhere (the source's created date for an imported lead, else the"
        " capture): the cohorts cut on it."
    )
    mql_at = models.DateTimeField(null=True, blank=True, help_text="First MQL (or hand-raise).")
    routed_at = models.DateTimeField(null=True, blank=True, help_text="First routed to a rep.")
    first_touch_at = models.DateTimeField(null=True, blank=True)
    last_touch_at = models.DateTimeField(null=True, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True, help_text="First rejection by an AE.")
    won_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    closed_out_at = models.DateTimeField(
        null=True, blank=True, help_text="Disqualified or sent back to nurture from sales (last time)."
    )

    # Speed to lead: from the moment the clock started (routed, else MQL, else captured) to
    # the first touch; wall clock and business time in the owner's team calendar.
    response_seconds = models.BigIntegerField(null=True, blank=True)
    response_business_seconds = models.BigIntegerField(null=True, blank=True)
    first_touch_breached = models.BooleanField(
        default=False,
        help_text="Its first-touch work item breached its SLA (a breach was recorded): stored so"
        " the speed diagnosis counts a column instead of probing work items per lead.",
    )

    # Money and reasons.
    accepted_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    won_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reject_reason = models.CharField(max_length=100, blank=True)
    lost_reason = models.CharField(max_length=100, blank=True)
    early_loss = models.BooleanField(default=False)
    close_out_reason = models.CharField(max_length=300, blank=True)
    close_out_status = models.CharField(
        max_length=16,
        blank=True,
        help_text="Where the last close-out sent the lead: 'disqualified' or 'nurture' (its status"
        " then; the status now may have moved on, e.g. recycled after a later loss).",
    )

    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Each flow the overview, the funnel and the diagnoses count (a moment in the
            # period, the previous stage's moment the funnel's median starts from, and the
            # columns their rules compare) is read from its own index alone.
            keyed("fact_mql", "mql_at", "first_seen_at", condition=Q(mql_at__isnull=False)),
            # The speed page: a period's first touches, their clocks and the MQL moment.
            keyed(
                "fact_touch",
                "first_touch_at",
                "mql_at",
                "response_seconds",
                "response_business_seconds",
                condition=Q(first_touch_at__isnull=False),
            ),
            keyed(
                "fact_handoff",
                "handed_off_at",
                "rejected_at",
                "reject_reason",
                "first_touch_at",
                condition=Q(handed_off_at__isnull=False),
            ),
            keyed(
                "fact_accepted",
                "accepted_at",
                "accepted_amount",
                "lost_at",
                "handed_off_at",
                condition=Q(accepted_at__isnull=False),
            ),
            keyed("fact_won", "won_at", "won_amount", "accepted_at", condition=Q(won_at__isnull=False)),
            keyed("fact_lost", "lost_at", "accepted_at", condition=Q(lost_at__isnull=False)),
            keyed("fact_routed", "routed_at", "first_touch_breached", condition=Q(routed_at__isnull=False)),
            # The cohort's qualified leads (the overview's cost per qualified opportunity).
            keyed("fact_qualified", "first_seen_at", condition=Q(accepted_at__isnull=False)),
            # Dropped on the floor (``insight.funnel.dropped``): the leads in sales (MQL,
            # working), by the moment they went quiet, the very expression the rule compares.
            # The expression's columns and the filters' follow as keys (not INCLUDE: SQLite
            # has none), so PostgreSQL counts them from the index alone, whatever the filter.
            models.Index(
                Coalesce("last_touch_at", "routed_at", "mql_at", "captured_at"),
                F("last_touch_at"),
                F("routed_at"),
                F("mql_at"),
                F("captured_at"),
                *(F(name) for name in FILTER_COLUMNS),
                name="fact_dropped",
                condition=Q(status__in=("mql", "working")),
            ),
            # The cohort (the leads first seen in the period): the money page's counts and sums
            # (``insight.money.measure``), the funnel's cohort and slices and the speed page's
            # decay curve. Every column they read is carried (INCLUDE, PostgreSQL only: SQLite
            # keeps the key alone), so each pass is an index-only scan whatever the filter and
            # the viewer. It serves every other range of first_seen_at too (no plain index).
            models.Index(
                fields=["first_seen_at"],
                include=[
                    "mql_at",
                    "routed_at",
                    "first_touch_at",
                    "handed_off_at",
                    "accepted_at",
                    "won_at",
                    "response_seconds",
                    "accepted_amount",
                    "won_amount",
                    *FILTER_COLUMNS,
                ],
                name="fact_money",
            ),
            # The funnel's dispositions: the cohort's closed-out, rejected and lost leads, each
            # read from a small partial index carrying its reasons.
            models.Index(
                fields=["first_seen_at"],
                include=[
                    "closed_out_at",
                    "mql_at",
                    "first_touch_at",
                    "handed_off_at",
                    "accepted_at",
                    "close_out_status",
                    "close_out_reason",
                    *FILTER_COLUMNS,
                ],
                name="fact_closed_out",
                condition=Q(closed_out_at__isnull=False),
            ),
            models.Index(
                fields=["first_seen_at"],
                include=["reject_reason", *FILTER_COLUMNS],
                name="fact_rejected",
                condition=Q(rejected_at__isnull=False),
            ),
            models.Index(
                fields=["first_seen_at"],
                include=["early_loss", "lost_reason", *FILTER_COLUMNS],
                name="fact_lost_cohort",
                condition=Q(lost_at__isnull=False),
            ),
            models.Index(fields=["sdr", "captured_at"], name="fact_sdr_captured"),
            models.Index(fields=["ae", "accepted_at"], name="fact_ae_accepted"),
            models.Index(fields=["campaign", "captured_at"], name="fact_campaign_captured"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}"


class RefreshState(models.Model):
    """Where the incremental refresh of ``LeadFact`` stopped (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    event_id = models.BigIntegerField(default=0, help_text="Highest lead event id seen.")
    breach_id = models.BigIntegerField(default=0, help_text="Highest SLA breach id seen.")
    activity_id = models.BigIntegerField(default=0, help_text="Highest activity id seen.")
    opportunity_at = models.DateTimeField(null=True, blank=True, help_text="Latest opportunity change seen.")
    campaign_at = models.DateTimeField(null=True, blank=True, help_text="Latest campaign change seen.")
    lead_at = models.DateTimeField(null=True, blank=True, help_text="Latest lead change seen.")
    generation = models.BigIntegerField(
        default=0,
        help_text="Counts the runs that changed a fact: the remembered page answers "
        "(insight.answers) are those of this generation.",
    )
    incremental_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="insight_refresh_single_row")]

    def __str__(self) -> str:
        return f"Lead facts refreshed at {self.incremental_at}"


def percent(help_text: str, default: int) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        default=default, validators=[MinValueValidator(0), MaxValueValidator(100)], help_text=help_text
    )


class HealthSettings(models.Model):
    """The thresholds of the refinery-health diagnoses (one row, edited in the admin)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    early_loss_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A loss within this many days of acceptance is an early loss.",
    )
    early_loss_percent = percent("Early losses above this share of accepted: qualify harder.", 20)
    win_rate_percent = percent("An AE win rate above this: the refinery may be too picky.", 50)
    rejection_percent = percent(
        "AE rejections above this share of handoffs: the teams disagree on qualified.", 25
    )
    starved_percent = percent(
        "SDRs starved: new MQLs per SDR per working day below this share of what their capacity allows.", 50
    )
    slow_percent = percent("Speed to lead slower than the SLA for more than this share of leads.", 10)
    dropped_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A lead in a sales status with no touch for this many days is dropped on the floor.",
    )
    renewal_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A renewal this close to its end with no conversation is flagged.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "health thresholds"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="insight_health_single_row")]

    def __str__(self) -> str:
        return "Health thresholds"

    @classmethod
    def load(cls) -> "HealthSettings":
        return cls.objects.get_or_create(pk=1)[0]


class SummaryPreference(models.Model):
    """Whether a person gets the weekly summary (the default is yes)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="summary_preference",
    )
    weekly_summary = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: weekly summary {'on' if self.weekly_summary else 'off'}"


class WeeklySummary(models.Model):
    """One person's summary of one week: claimed (this row) before it is sent, so it is sent
    at most once per person and week, whatever the re-runs and however many workers."""

    class State(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_summaries"
    )
    week = models.DateField(
        help_text="The Monday the summarised week starts on (the person's team time zone)."
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-week", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="summary_once_per_week")]

    def __str__(self) -> str:
        return f"{self.user} {self.week}"
