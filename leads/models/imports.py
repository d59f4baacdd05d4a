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
