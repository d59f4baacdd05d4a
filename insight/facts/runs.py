"""The runs that write the facts, and the upsert they share:

- ``rebuild()`` recomputes every lead (the nightly task; it also deletes the facts of leads
  that no longer exist). ``refresh()`` recomputes the leads that changed since the last run
  (``insight.facts.watermarks`` says which).
- A fact is written only when a column differs (``ON CONFLICT ... WHERE ... IS DISTINCT
  FROM``), so both return how many facts were written (new or changed), re-runs write
  nothing, and ``refreshed_at`` says when a fact last changed. A run that writes a fact bumps
  ``RefreshState.generation`` in the same transaction (``insight.answers`` keys on it).
- Runs are serialised on the ``RefreshState`` row: a refresh finding another run in
  progress skips (the next minute catches up); a rebuild waits for it.
- ``before_commit(generation)``, when given, is called inside the run's transaction once the
  facts are written and the generation bumped, before either is visible to anyone else
  (``insight.tasks`` answers the recent questions for the new facts there, so no page waits
  for them after the commit).
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from leads.models import Lead

from ..models import LeadFact, RefreshState
from .dialect import is_distinct
from .spans import days_needed, materialize_spans
from .statement import COLUMNS, facts_select
from .watermarks import advance, changed_leads_sql, read_watermarks

logger = logging.getLogger(__name__)


def rebuild(now: datetime | None = None, before_commit: Callable[[int], object] | None = None) -> int:
    """Recompute the fact of every lead (and drop the facts of deleted leads). Returns how
    many facts were written or removed (a fact already right is not rewritten)."""
    now = now or timezone.now()
    RefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RefreshState.objects.select_for_update().get(pk=1)
        marks = read_watermarks()
        written = _write(None, now) + _delete_orphans()
        advance(state, marks, now)
        if written:
            state.generation += 1  # with the facts: what insight.answers remembered is stale
        state.rebuilt_at = now
        state.save()
        if written and before_commit is not None:
            before_commit(state.generation)
    logger.info("Lead facts rebuilt: %s written", written)
    return written


def refresh(now: datetime | None = None, before_commit: Callable[[int], object] | None = None) -> int:
    """Recompute the facts of the leads that changed since the last run (``watermarks``
    says which). Returns how many facts were written; 0 when another run holds the state."""
    now = now or timezone.now()
    RefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RefreshState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            return 0  # a rebuild or another refresh is running: the next minute catches up
        marks = read_watermarks()
        if state.incremental_at is None and state.rebuilt_at is None:
            written = _write(None, now)  # never run: everything is new
        else:
            written = _write(changed_leads_sql(state), now)
        advance(state, marks, now)
        if written:
            state.generation += 1
        state.save()
        if written and before_commit is not None:
            before_commit(state.generation)
    return written


def _write(targets: tuple[str, list] | None, now: datetime) -> int:
    """Upsert the facts of ``targets`` (None: every lead); returns the rows written."""
    first, last = days_needed(targets, now)
    if first is None:
        return 0  # no lead to compute
    with connection.cursor() as cursor:
        materialize_spans(cursor, first, last)  # type: ignore[arg-type]  # a first lead implies a last
        select, params = facts_select(targets, now)
        table = LeadFact._meta.db_table
        updated = [c for c in COLUMNS if c != "lead_id"]
        assignments = ", ".join(f"{c} = excluded.{c}" for c in updated)
        differs = " OR ".join(
            is_distinct(f"{table}.{c}", f"excluded.{c}") for c in updated if c != "refreshed_at"
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) {select}"
            f" ON CONFLICT (lead_id) DO UPDATE SET {assignments} WHERE {differs}",
            params,
        )
        return max(cursor.rowcount, 0)


def _delete_orphans() -> int:
    """The facts of leads deleted without the ORM's cascade (a raw DELETE): gone too."""
    table = LeadFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS"
            f" (SELECT 1 FROM {Lead._meta.db_table} l WHERE l.id = {table}.lead_id)"
        )
        return max(cursor.rowcount, 0)
