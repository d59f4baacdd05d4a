"""Campaigns, the public web forms credited to them, and the web-form posts waiting for a
worker to capture them."""

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .choices import ActivityKind, Channel


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
    # The thank-you page names the company and links back to its site (both optional; edited in
    # the admin, live within CACHE_SECONDS).
    company_name = models.CharField(max_length=200, blank=True, help_text="Shown on the thank-you page.")
    company_url = models.URLField(
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The thank-you page links back here (https://...).",
    )

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
