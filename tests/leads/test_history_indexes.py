"""The lookups of a lead's history by lead (its timeline, its last touch, a lead merged or
deleted) and of an import's activities (its undo) are served by the composite indexes alone,
since the single-column ones were dropped (``leads`` migration 0021): each plan, with
sequential scans ruled out, reads the index named here, never the whole table. The events and
activities tables reach a hundred million rows (docs/scaling.md): a scan of either is minutes.
"""

import pytest
from django.db import connection

from leads.models import TOUCH_KINDS, Activity, Lead, LeadEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_timeline_reads_a_leads_newest_events_and_activities_by_index():
    lead = Lead(pk=1)
    assert "event_lead_time" in plan(lead.events.select_related("actor", "campaign")[:200])
    assert "activity_lead_time" in plan(lead.activities.select_related("actor", "campaign")[:200])


def test_the_last_touch_and_the_cascades_by_lead_read_the_composite_index():
    touches = Activity.objects.filter(lead_id=1, kind__in=TOUCH_KINDS).order_by("-occurred_at", "-id")[:1]
    assert "activity_lead_time" in plan(touches)
    # What a merge moves and a lead's deletion cascades to: every row of some leads.
    assert "activity_lead_time" in plan(Activity.objects.filter(lead_id__in=[1, 2]))
    assert "event_lead_time" in plan(LeadEvent.objects.filter(lead_id__in=[1, 2]))


def test_an_imports_activities_are_found_by_the_partial_index():
    assert "activity_import" in plan(Activity.objects.filter(import_job_id=7))


def test_the_single_column_indexes_are_gone():
    with connection.cursor() as cursor:
        indexes = {
            name
            for table in ("leads_activity", "leads_leadevent")
            for name in connection.introspection.get_constraints(cursor, table)
        }
    assert (
        not {
            "leads_activity_lead_id_9cc33a14",
            "leads_activity_import_job_id_e605c021",
            "leads_leadevent_lead_id_426caf75",
        }
        & indexes
    )
