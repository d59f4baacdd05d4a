"""The breach sweep (every minute, from beat): record every timer past due as a breach, once,
then have the managers emailed (``escalation``) and reassign breached items whose policy says
so, through the subject app's reassigner (``work.registry``).

Exactly-once by construction: the sweep claims due timers with ``FOR UPDATE SKIP LOCKED`` and
a ``breached_at IS NULL`` condition, and a breach row is unique per work item, so two sweeps
running at once, a sweep run twice, or a sweep catching up after an hour each record every
breach once.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from .. import registry
from ..models import Breach, SlaPolicy, WorkItem
from .escalation import escalate_breaches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    breached: int
    escalated: int
    reassigned: int


SWEEP_BATCH = 5_000


def sweep_breaches(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> SweepResult:
    """Record every timer past due as a breach (once), email the managers (once), and
    reassign breached items whose policy says so. Safe to run twice or concurrently; a sweep
    that did not run for a while catches up on everything due since."""
    now = now or timezone.now()
    breached = 0
    while True:
        with transaction.atomic():
            count = _mark_breaches(now, batch_size)
        breached += count
        if count < batch_size:
            break
    return SweepResult(
        breached=breached, escalated=escalate_breaches(now=now), reassigned=reassign_due(now=now)
    )


def _mark_breaches(now: datetime, limit: int) -> int:
    if connection.vendor == "postgresql":
        return _mark_breaches_sql(now, limit)
    return _mark_breaches_orm(now, limit)


MARK_BREACHES_SQL = f"""
WITH due AS (
    SELECT id FROM {WorkItem._meta.db_table}
    WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL AND due_at <= %(now)s
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE {WorkItem._meta.db_table} AS item SET breached_at = %(now)s
    -- = ANY(ARRAY(...)), not a join: the planner would assume the LIMIT's full count and
    -- walk the whole primary key, a cost that grows with history instead of with the due.
    WHERE item.id = ANY(ARRAY(SELECT id FROM due))
    RETURNING item.id, item.policy_id, item.owner_id, item.team_id, item.due_at
)
INSERT INTO {Breach._meta.db_table}
    (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation, note)
SELECT marked.id, marked.policy_id, marked.owner_id, marked.team_id, marked.due_at, %(now)s,
       CASE WHEN policy.escalate_to_manager THEN 'pending' ELSE 'off' END, ''
FROM marked JOIN {SlaPolicy._meta.db_table} AS policy ON policy.id = marked.policy_id
ON CONFLICT (work_item_id) DO NOTHING
"""


def _mark_breaches_sql(now: datetime, limit: int) -> int:
    """One statement: claim due timers (skipping those another sweep holds), mark them, and
    insert their breaches; no Python object per item."""
    with connection.cursor() as cursor:
        cursor.execute(MARK_BREACHES_SQL, {"now": now, "limit": limit})
        return cursor.rowcount


def _mark_breaches_orm(now: datetime, limit: int) -> int:
    """The portable path (SQLite, the demo): same claim, in three statements."""
    due = list(
        WorkItem.objects.filter(
            state=WorkItem.State.OPEN, breached_at__isnull=True, policy__isnull=False, due_at__lte=now
        )
        .select_related("policy")
        .order_by("due_at")[:limit]
    )
    ids = [item.pk for item in due]
    WorkItem.objects.filter(pk__in=ids, breached_at__isnull=True).update(breached_at=now)
    Breach.objects.bulk_create(
        [
            Breach(
                work_item_id=item.pk,
                policy_id=item.policy_id,  # type: ignore[misc]  # due is filtered on policy__isnull=False
                owner_id=item.owner_id,
                team_id=item.team_id,
                due_at=item.due_at,
                detected_at=now,
                escalation=Breach.Escalation.PENDING
                if item.policy.escalate_to_manager  # type: ignore[union-attr]  # as policy_id above
                else Breach.Escalation.OFF,
            )
            for item in due
        ],
        ignore_conflicts=True,
    )
    return len(due)


REASSIGN_BATCH = 200


def reassign_due(*, now: datetime | None = None) -> int:
    """Hand breached items still open past their reassignment time to someone else, through
    the subject app's reassigner. Each item is considered once (its ``reassign_at`` is
    cleared whatever the outcome)."""
    now = now or timezone.now()
    moved_total = 0
    while True:
        with transaction.atomic():
            batch = list(
                WorkItem.objects.filter(state=WorkItem.State.OPEN, reassign_at__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("content_type")
                .order_by("reassign_at")[:REASSIGN_BATCH]
            )
            if not batch:
                return moved_total
            by_model = defaultdict(list)
            for item in batch:
                by_model[item.content_type.model_class()].append(item)
            moved: set[int] = set()
            for model, items in by_model.items():
                reassigner = registry.reassigner_for(model)
                if reassigner is None:
                    logger.warning("No reassigner for %s; %d items stay with their owner", model, len(items))
                    continue
                moved |= reassigner(items)
            WorkItem.objects.filter(pk__in=[i.pk for i in batch]).update(reassign_at=None)
            Breach.objects.filter(work_item_id__in=moved).update(reassigned_at=now)
            moved_total += len(moved)
        if len(batch) < REASSIGN_BATCH:
            return moved_total
