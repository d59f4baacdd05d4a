"""Which leads changed since the last run: a lead event, a rep touch or a first-touch breach
with an id above the watermarks in ``RefreshState`` (the breach sweep writes no lead event), a
new-business opportunity updated (``updated_at``) since the last run, a lead with an id above
every fact's (a lead written without any event), or a lead whose campaign was edited
(``updated_at``) since the last run and whose fact's ``channel`` is no longer the campaign's
(the only column a campaign gives; a campaign's cost or name edited recomputes nothing).

A transaction may commit after a higher id or a later time was seen, so each run re-checks
the last ``ID_OVERLAP`` ids and ``TIME_OVERLAP`` of time. The other writes that change a fact
column write a lead event for it: fit scores recomputed in bulk after the profile changed
(``leads.services.recompute_fit_scores``: a "details updated" event per lead whose grade
moved) and a lead edited in the admin (``leads.services.update_lead``).
"""

from datetime import UTC, datetime, timedelta

from django.db import connection

from accounts.models import Opportunity
from leads.models import TOUCH_KINDS, TOUCH_SOURCES, Activity, Campaign, Lead, LeadEvent
from work.models import Breach, WorkItem

from ..models import LeadFact, RefreshState
from .dialect import adapt
from .statement import lead_type_id

ID_OVERLAP = 1_000
TIME_OVERLAP = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def changed_leads_sql(state: RefreshState) -> tuple[str, list]:
    """The ids of the leads that changed since ``state``'s watermarks, as SQL (one column,
    ``lead_id``) with its parameters. Each branch is a range over an index (a primary key, or
    the lead facts' own key); the opportunities' ``updated_at`` is read by a scan. A breach
    only ever sets ``first_touch_breached``: the breaches re-checked behind the watermark skip
    the leads already flagged, so an idle run does not recompute them. Likewise a campaign
    edited since the last run names only its leads whose fact's channel is no longer the
    campaign's, read from the facts' campaign index: re-checking the last minutes' edits, or
    an edit of a cost or a name, recomputes nobody."""
    since = (state.opportunity_at or EPOCH) - TIME_OVERLAP
    newest, campaigns = _newest_fact_and_edited_campaigns(state)
    kinds = ", ".join(["%s"] * len(TOUCH_KINDS))
    sources = ", ".join(["%s"] * len(TOUCH_SOURCES))
    sql = f"""
        SELECT e.lead_id FROM {LeadEvent._meta.db_table} e WHERE e.id > %s
        UNION SELECT a.lead_id FROM {Activity._meta.db_table} a
            WHERE a.id > %s AND a.kind IN ({kinds}) AND a.source IN ({sources})
        UNION SELECT o.lead_id FROM {Opportunity._meta.db_table} o
            WHERE o.updated_at >= %s AND o.kind = %s AND o.lead_id IS NOT NULL
        UNION SELECT l.id FROM {Lead._meta.db_table} l WHERE l.id > %s
        UNION SELECT w.object_id FROM {Breach._meta.db_table} b
            JOIN {WorkItem._meta.db_table} w ON w.id = b.work_item_id
            WHERE b.id > %s AND w.kind = %s AND w.content_type_id = %s AND NOT EXISTS (
                SELECT 1 FROM {LeadFact._meta.db_table} f
                WHERE f.lead_id = w.object_id AND f.first_touch_breached
            )
    """
    if campaigns:  # our own integer ids, written out: no limit on the number of parameters
        sql += f"""
        UNION SELECT f.lead_id FROM {LeadFact._meta.db_table} f
            JOIN {Campaign._meta.db_table} c ON c.id = f.campaign_id
            WHERE f.campaign_id IN ({", ".join(str(int(pk)) for pk in campaigns)}) AND f.channel <> c.channel
        """
    params = [
        state.event_id - ID_OVERLAP,
        state.activity_id - ID_OVERLAP,
        *[str(k) for k in TOUCH_KINDS],
        *[str(s) for s in TOUCH_SOURCES],
        adapt(since),
        str(Opportunity.Kind.NEW_BUSINESS),
        newest,
        state.breach_id - ID_OVERLAP,
        str(WorkItem.Kind.FIRST_TOUCH),
        lead_type_id(),
    ]
    return sql, params


def _newest_fact_and_edited_campaigns(state: RefreshState) -> tuple[int, list[int]]:
    """The highest lead id with a fact, and the campaigns edited since the last run (a range
    of their ``updated_at`` index, with the overlap for late commits), in one statement.
    Constants for the refresh's statement, not subqueries: the planner then sees how few
    leads are that new, and reads the edited campaigns' facts by the facts' campaign index
    whatever its statistics of the campaigns say (none, on a table too small for autovacuum
    to analyze, made it join every fact by a hash)."""
    since = (state.campaign_at or EPOCH) - TIME_OVERLAP
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(f.lead_id), NULL FROM {LeadFact._meta.db_table} f"
            f" UNION ALL SELECT NULL, c.id FROM {Campaign._meta.db_table} c WHERE c.updated_at >= %s",
            [adapt(since)],
        )
        rows = cursor.fetchall()
    newest = next((lead for lead, campaign in rows if campaign is None), None)
    return newest or 0, [campaign for _, campaign in rows if campaign is not None]


def read_watermarks() -> tuple[int, int, int]:
    """The highest lead event, activity and breach ids now (read before the facts are
    computed, so what commits meanwhile is seen by the next run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {LeadEvent._meta.db_table}),"
            f" (SELECT MAX(id) FROM {Activity._meta.db_table}),"
            f" (SELECT MAX(id) FROM {Breach._meta.db_table})"
        )
        event_id, activity_id, breach_id = cursor.fetchone()
    return event_id or 0, activity_id or 0, breach_id or 0


def advance(state: RefreshState, marks: tuple[int, int, int], now: datetime) -> None:
    """Move ``state``'s watermarks to the ids read before this run (never back) and its
    times to ``now``; the caller saves it with the facts."""
    state.event_id = max(state.event_id, marks[0])
    state.activity_id = max(state.activity_id, marks[1])
    state.breach_id = max(state.breach_id, marks[2])
    state.opportunity_at = now
    state.campaign_at = now
    state.incremental_at = now
