"""What scoring is measured against, edited by marketing/ops: the ideal-customer profile and
its criteria (fit), the decay and thresholds (engagement), the points of each activity kind.
The arithmetic is ``leads.scoring``."""

from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from .choices import NUMERIC_FIT_FIELDS, ActivityKind, FitField, Seniority


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
        from ..cleaning import normalize_fit_value

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
    order_queue_by_propensity = models.BooleanField(
        default=False,
        help_text=(
            "Order the SDR queue's new leads by the learned probability of becoming an accepted "
            "opportunity instead of the grade. Allowed only while the current learned model beats "
            "the fit score on held-out leads."
        ),
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

    def clean(self) -> None:
        super().clean()
        if self.order_queue_by_propensity:
            from ..learned import verdict

            judged = verdict()
            if not judged.beats_fit:
                raise ValidationError({"order_queue_by_propensity": judged.reason})

    @classmethod
    def load(cls) -> "ScoringSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


DEFAULT_ACTIVITY_POINTS = {
    ActivityKind.VISIT: 2,
    ActivityKind.DOWNLOAD: 10,
    ActivityKind.DEMO_VIEW: 15,
    ActivityKind.EMAIL_OPEN: 1,
    ActivityKind.EMAIL_CLICK: 5,
    ActivityKind.EMAIL_REPLY: 20,
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
