"""What the duplicate finder remembers: pairs a person said are not duplicates, and every merge
done (who, when, what the merged record held), for the record and the redirect."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Kind(models.TextChoices):
    LEAD = "lead", "Person (lead)"
    ACCOUNT = "account", "Company (account)"


class DismissedPair(models.Model):
    """Two records someone looked at and said are different: the finder stops proposing them.
    ``first_id`` < ``second_id``."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    first_id = models.PositiveBigIntegerField()
    second_id = models.PositiveBigIntegerField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "first_id", "second_id"], name="dismissed_pair_once"),
            models.CheckConstraint(condition=Q(first_id__lt=F("second_id")), name="dismissed_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id} != {self.second_id}"


class MergeRecord(models.Model):
    """One merge: the survivor, the merged record's old id and its values before the merge,
    and the value chosen per field."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    survivor_id = models.PositiveBigIntegerField()
    merged_id = models.PositiveBigIntegerField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    merged_values = models.JSONField(default=dict, help_text="The merged record as it was.")
    chosen = models.JSONField(default=dict, help_text="Field -> which record's value was kept.")
    moved = models.JSONField(default=dict, help_text="What moved to the survivor, counted by kind.")

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [models.Index(fields=["kind", "survivor_id"], name="merge_by_survivor")]

    def __str__(self) -> str:
        return f"{self.kind} {self.merged_id} -> {self.survivor_id}"


class LeadKey(models.Model):
    """One lead's keys as the person finder compares them (``dedupe.keys``): its full name, its
    company without legal suffixes, its phone's last digits and its company email domain, each
    empty when the lead has none. Kept current by ``dedupe.keys.refresh_keys``; the finder groups
    these rows instead of normalising every lead on every run."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, primary_key=True, related_name="+")
    name_key = models.TextField(blank=True, default="")
    company_key = models.TextField(blank=True, default="")
    phone_key = models.TextField(blank=True, default="")
    domain_key = models.TextField(blank=True, default="")

    class Meta:
        # One per rule, holding only the leads the rule can pair, ids included: each GROUP BY
        # reads its own index alone.
        indexes = [
            models.Index(
                fields=["name_key", "company_key"],
                include=["lead"],
                condition=~Q(name_key="") & ~Q(company_key=""),
                name="leadkey_by_company",
            ),
            models.Index(
                fields=["phone_key"], include=["lead"], condition=~Q(phone_key=""), name="leadkey_by_phone"
            ),
            models.Index(
                fields=["name_key", "domain_key"],
                include=["lead"],
                condition=~Q(name_key="") & ~Q(domain_key=""),
                name="leadkey_by_domain",
            ),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.name_key} | {self.company_key} | {self.phone_key} | {self.domain_key}"


class KeyWatermark(models.Model):
    """How far ``LeadKey`` is current (one row, id 1): the leads written since
    ``refreshed_through`` and those above ``keyed_through_id`` are the next refresh's."""

    refreshed_through = models.DateTimeField()
    keyed_through_id = models.BigIntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"keys through {self.refreshed_through:%Y-%m-%d %H:%M:%S}, id {self.keyed_through_id}"
