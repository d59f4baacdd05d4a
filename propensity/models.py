"""A trained model version: what it learned (coefficients), what it saw (counts, period) and
how it did on held-out data beside the hand-written fit score."""

import math

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Target(models.TextChoices):
    """What a model predicts."""

    ACCEPTED = "accepted", "Lead becomes an accepted opportunity"
    WON = "won", "Opportunity is won"
    RENEWED = "renewed", "Contract is renewed (not churned)"


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def active(self, target: str) -> "ModelVersion | None":
        return self.filter(target=target, is_active=True).first()


class ModelVersion(models.Model):
    """One training run for one target, kept whatever its result.

    ``status`` says whether it learned anything: with fewer outcomes of either kind than
    ``PROPENSITY_MIN_OUTCOMES`` it is "too little history", keeps its counts and nothing else,
    and is never used. A ready version holds its held-out scores beside the fit score's on the
    same leads, and its coefficients as JSON (a linear model needs no pickle; the explanation
    of a score is exact). At most one version per target is active; the admin may activate an
    older one (roll back)."""

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        TOO_LITTLE = "too_little", "Too little history"

    target = models.CharField(max_length=10, choices=Target.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    is_active = models.BooleanField(default=False)
    trained_at = models.DateTimeField(default=timezone.now)
    # What it saw: outcomes before the split (training) and after it (held out).
    history_from = models.DateTimeField(null=True, blank=True)
    held_out_from = models.DateTimeField(null=True, blank=True)
    history_to = models.DateTimeField(null=True, blank=True)
    train_outcomes = models.PositiveIntegerField(default=0)
    train_positives = models.PositiveIntegerField(default=0)
    held_out_outcomes = models.PositiveIntegerField(default=0)
    held_out_positives = models.PositiveIntegerField(default=0)
    # How it did on the held-out outcomes, and the fit score on the same ones.
    auc = models.FloatField(null=True, blank=True)
    brier = models.FloatField(null=True, blank=True)
    fit_auc = models.FloatField(null=True, blank=True)
    calibration = models.JSONField(
        default=list,
        blank=True,
        help_text="Bins of predicted probability: mean predicted, observed rate, count.",
    )
    # {"intercept": b, "features": [{"key", "weight", "n", "positives"}, ...]}
    coefficients = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0.0, help_text="How long the training took.")

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target"], condition=Q(is_active=True), name="one_active_model_per_target"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="ready"), name="only_ready_models_are_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} #{self.pk} ({self.trained_at:%Y-%m-%d %H:%M})"

    def clean(self) -> None:
        if self.is_active and self.status != self.Status.READY:
            raise ValidationError({"is_active": "A version trained on too little history cannot be used."})

    @property
    def outcomes(self) -> int:
        return self.train_outcomes + self.held_out_outcomes

    @property
    def auc_gain(self) -> float | None:
        if self.auc is None or self.fit_auc is None:
            return None
        return self.auc - self.fit_auc

    def beats_fit(self, margin: float) -> bool:
        """Whether its held-out AUC beats the fit score's on the same leads by ``margin``."""
        gain = self.auc_gain
        return (
            self.status == self.Status.READY and gain is not None and not math.isnan(gain) and gain >= margin
        )

    @property
    def intercept(self) -> float:
        return float(self.coefficients.get("intercept", 0.0))

    @property
    def weights(self) -> dict[str, float]:
        return {f["key"]: float(f["weight"]) for f in self.coefficients.get("features", [])}
