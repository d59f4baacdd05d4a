"""CSV imports: the uploaded file, its progress and counts, and each refused row."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .campaigns import Campaign


def import_upload_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{secrets.token_hex(8)}.csv"


class ImportJob(models.Model):
    """One CSV import: the uploaded file, its progress, and its counts. Refused rows are
    reported one by one in ``ImportRowError``."""

    class State(models.TextChoices):
        MAPPING = "mapping", "Waiting for its mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    class MergePolicy(models.TextChoices):
        FILL_BLANKS = "fill_blanks", "Fill blanks: keep what Refinery knows, add what it lacks"
        OVERWRITE = "overwrite", "Overwrite: the file's non-empty values win"
        KEEP = "keep", "Keep: change nothing on known people"

    class Outcome(models.TextChoices):
        """What a row becomes, chosen per source status in ``status_map``."""

        NURTURE = "nurture", "Lead in nurture"
        MQL = "mql", "Sales-ready lead (MQL)"
        REVIEW = "review", "Open opportunity: flag for review"
        CUSTOMER = "customer", "Customer: account and contact"
        DISQUALIFIED = "disqualified", "Disqualified, with the source status as reason"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=import_upload_path)
    original_name = models.CharField(max_length=255)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file_format = models.CharField(
        max_length=20, blank=True, help_text="Which CRM wrote it, when recognised."
    )
    sheet_type = models.CharField(max_length=4, default="csv", help_text="csv or xlsx")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    # The mapping: the file's header row, and for each column the Lead field it fills ("" for
    # an ignored column), as the person confirmed it on the mapping screen.
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=list, blank=True)
    # Source status (as written in the file) -> Outcome value; unlisted statuses use the default.
    status_map = models.JSONField(default=dict, blank=True)
    merge_policy = models.CharField(
        max_length=12, choices=MergePolicy.choices, default=MergePolicy.FILL_BLANKS
    )
    dry_run = models.BooleanField(default=False, help_text="Report what would happen; write nothing.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("team.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField("leads.Tag", blank=True, related_name="+")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    review_count = models.PositiveIntegerField(default=0)
    disqualified_count = models.PositiveIntegerField(default=0)
    activity_count = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Activities recorded from the rows' last-activity and conversion dates.",
    )
    failure = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last committed batch.")
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
    """A refused row of an import (or, with ``warning``, a row kept with a change such as a
    shortened value): its line number in the file, why, and its cells as read, so the refused
    rows download as a CSV to fix and upload again."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    email = models.CharField(max_length=254, blank=True)
    warning = models.BooleanField(default=False)
    cells = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="import_error_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class LeadImport(models.Model):
    """That an import touched a lead, and how: the "from import N" filter, the lead's imports,
    and undo (``before`` holds the values the import replaced)."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Already known, unchanged"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="lead_links")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="import_links")
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "lead"], name="lead_import_once")]
        indexes = [models.Index(fields=["lead", "job"], name="lead_import_by_lead")]

    def __str__(self) -> str:
        return f"import {self.job_id} {self.action} lead {self.lead_id}"


class ImportMapping(models.Model):
    """A column mapping someone confirmed, suggested again for a file with the same headers
    (``signature``: a hash of its normalised header row) and, column by column, for others."""

    signature = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    columns = models.JSONField(default=dict, help_text="Normalised header -> Lead field ('' = ignored).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.signature[:12]
