"""The daily renewal run (``renewals.tasks.run_renewals``, the ``run_renewals`` command)."""

from datetime import datetime

from django.utils import timezone

from .base import BATCH
from .managers import assign_waiting_customers
from .outcomes import auto_renew_ended
from .windows import RenewalRun, open_due_windows


def run_renewals(*, now: datetime | None = None, batch_size: int = BATCH) -> RenewalRun:
    """The daily task: open the renewals whose window has started, remind the AMs whose
    customers nobody has talked to by the reminder window, and renew auto-renewing contracts
    that reached their end. Safe to run twice, concurrently, or after days of not running."""
    now = now or timezone.now()
    run = RenewalRun()
    assign_waiting_customers(now=now, limit=batch_size)
    open_due_windows(run, now=now, only=None, batch_size=batch_size)
    run.auto_renewed = auto_renew_ended(now=now)
    return run
