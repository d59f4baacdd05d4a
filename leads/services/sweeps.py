"""The engagement threshold sweep: nurture leads whose engagement reached the MQL threshold
move into the SDR flow, untouched MQLs that went cold move back to nurture, in claimed batches."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Lead, LeadEvent, ScoringSettings
from ..scoring import threshold_key
from .common import PROMOTABLE, status_change


@dataclass(frozen=True)
class SweepResult:
    promoted: int
    cooled: int


def sweep_engagement_thresholds(*, now: datetime | None = None, batch_size: int = 5_000) -> SweepResult:
    """Move nurture leads whose engagement reached the MQL threshold into the SDR flow, and
    untouched MQLs that went cold back to nurture.

    Visits only those leads: each condition is a range over the stored decay key, served by
    a partial index holding just that crossing's candidates. Rows are claimed with
    ``SKIP LOCKED`` in bounded batches, so two sweeps never move the same lead twice and a
    re-run changes nothing.
    """
    now = now or timezone.now()
    settings = ScoringSettings.load()
    hl = settings.half_life_days
    promote = Q(status__in=PROMOTABLE, engagement_key__gte=threshold_key(settings.mql_threshold, now, hl))
    cold_key = threshold_key(settings.cold_threshold, now, hl)
    cool = Q(
        status=Lead.Status.MQL,
        owner__isnull=True,
        team__isnull=True,
        hand_raiser=False,
        engagement_key__lt=cold_key,
    )
    # Each claim walks its partial index from the end the crossers are at (the ordered LIMIT
    # is what makes the planner use it: candidates are estimated from whole-table statistics).
    promoted = _move_in_batches(
        promote,
        "-engagement_key",
        Lead.Status.MQL,
        now,
        batch_size,
        f"Engagement reached the MQL threshold ({settings.mql_threshold:g}).",
    )
    cooled = _move_in_batches(
        cool,
        "engagement_key",
        Lead.Status.NURTURE,
        now,
        batch_size,
        f"Engagement decayed below {settings.cold_threshold:g} before anyone worked it.",
    )
    return SweepResult(promoted=promoted, cooled=cooled)


def _move_in_batches(condition: Q, order: str, to: str, now: datetime, batch_size: int, reason: str) -> int:
    claim = Lead.objects.filter(condition).order_by(order)
    if connection.vendor == "postgresql" and SWEEP_IN_ONE_STATEMENT:
        return _move_in_batches_sql(claim, to, now, batch_size, reason)
    return _move_in_batches_orm(claim, to, now, batch_size, reason)


# The PostgreSQL sweep claims, moves and writes the timeline for a batch in one statement;
# switched off only by the tests that cover the portable path on PostgreSQL too.
SWEEP_IN_ONE_STATEMENT = True


def _move_in_batches_sql(claim, to: str, now: datetime, batch_size: int, reason: str) -> int:
    """One round trip per batch and no Python object per lead: the candidates are claimed
    with SKIP LOCKED, moved, and their timeline events inserted from the UPDATE's RETURNING."""
    claim_sql, claim_params = claim.values("id", "status")[:batch_size].query.sql_with_params()
    lead, event = Lead._meta.db_table, LeadEvent._meta.db_table
    statement = f"""
        WITH claimed AS ({claim_sql} FOR UPDATE SKIP LOCKED),
        moved AS (
            UPDATE {lead} AS l
            SET status = %s, status_changed_at = %s, status_reason = %s, updated_at = %s,
                mql_at = CASE WHEN %s THEN %s ELSE l.mql_at END
            FROM claimed WHERE l.id = claimed.id
            RETURNING l.id, claimed.status AS old_status
        ),
        events AS (
            INSERT INTO {event} (lead_id, kind, at, from_status, to_status, message, via)
            SELECT id, %s, %s, old_status, %s, %s, '' FROM moved
            RETURNING 1
        )
        SELECT count(*) FROM events
    """
    params = [
        *claim_params,
        to,
        now,
        reason[:300],
        now,
        to == Lead.Status.MQL,
        now,
        LeadEvent.Kind.STATUS,
        now,
        to,
        reason[:500],
    ]
    moved = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            count = cursor.fetchone()[0]
        moved += count
        if count < batch_size:
            return moved


def _move_in_batches_orm(claim, to: str, now: datetime, batch_size: int, reason: str) -> int:
    moved = 0
    while True:
        with transaction.atomic():
            rows = list(claim.select_for_update(skip_locked=True).values_list("pk", "status")[:batch_size])
            if not rows:
                return moved
            Lead.objects.filter(pk__in=[pk for pk, _ in rows]).update(**status_change(to, now, reason))
            LeadEvent.objects.bulk_create(
                LeadEvent(
                    lead_id=pk,
                    kind=LeadEvent.Kind.STATUS,
                    at=now,
                    from_status=old,
                    to_status=to,
                    message=reason,
                )
                for pk, old in rows
            )
            moved += len(rows)
        if len(rows) < batch_size:
            return moved
