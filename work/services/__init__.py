"""Writes on work items, one module per feature; this package's names are the work app's public
service API (what other apps, the views, the API, tasks and tests import):

    timers      due times in the owner's team calendar (``Schedules``), SLA policies by key,
                the at-risk window
    items       opening, completing, cancelling and moving a subject's work items
    sweep       the breach sweep: breaches recorded exactly once, reassignment after a breach
    escalation  the managers' breach emails, claimed before they are sent
    warnings    the SLA warning sweep: an owner told once, before the breach, at the policy's share
    review      acknowledging a breach; ``WorkError``, the app's refusal

Every function owns its transaction. Timers are rows, not delayed broker messages: the sweep
finds what fell due, so a broker outage delays a breach and loses none.
"""

from .escalation import ESCALATION_BATCH, escalate_breaches
from .items import NewItem, cancel_items, complete_items, move_items, open_items, subject_filter
from .review import WorkError, acknowledge_breach
from .sweep import REASSIGN_BATCH, SWEEP_BATCH, SweepResult, reassign_due, sweep_breaches
from .timers import Schedules, at_risk_window, describe_due, due_times, policies_by_key, warn_time
from .warnings import WARN_BATCH, warn_due_timers

__all__ = [
    "ESCALATION_BATCH",
    "REASSIGN_BATCH",
    "SWEEP_BATCH",
    "WARN_BATCH",
    "NewItem",
    "Schedules",
    "SweepResult",
    "WorkError",
    "acknowledge_breach",
    "at_risk_window",
    "cancel_items",
    "complete_items",
    "describe_due",
    "due_times",
    "escalate_breaches",
    "move_items",
    "open_items",
    "policies_by_key",
    "reassign_due",
    "subject_filter",
    "sweep_breaches",
    "warn_due_timers",
    "warn_time",
]
