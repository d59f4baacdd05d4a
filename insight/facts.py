"""The lead facts (``insight.models.LeadFact``): one narrow row per lead, derived from the
source tables by ONE set-based statement (``INSERT ... SELECT ... ON CONFLICT (lead_id) DO
UPDATE``), on PostgreSQL and SQLite alike. The leads to (re)compute are a subquery, never a
Python list; no lead row is ever loaded into Python.

What each column means (and where the services record it):

- ``campaign``, ``source``, ``fit_grade``, ``hand_raiser``, ``status``: the lead's, now.
  ``channel``: its campaign's channel ('' without a campaign).
- ``team``: the team the lead was routed to (``lead.team``), else its owner's team. The
  code proved "lead.team" alone wrong: a lead leaving sales (nurture, disqualified,
  recycled) has its team cleared (``leads.services.common.status_change``), which would drop
  every disposed lead out of its team's numbers; its owner is kept, and so is their team.
- ``sdr``: the SDR credited on the lead's first new-business opportunity (``hand_off`` sets
  it to the lead's owner, or the person handing off), else the lead's owner when the owner
  is an SDR (inbound or outbound).
- ``ae``: the owner of the first accepted new-business opportunity, else of the first one.
  An AE covering a teammate's handoff becomes its owner (``accept_handoff``), so it counts.
- ``origin``: outbound when the lead's source is outbound prospecting (that is how
  ``hand_off`` decides an opportunity's origin, and every prospect added on a target
  account is captured with that source) or any of its new-business opportunities is
  outbound; inbound otherwise.
- ``captured_at``: ``lead.captured_at``.
- ``mql_at``: the first time it became an MQL or raised its hand: the earliest of a
  ``captured`` or ``status`` event to MQL, a ``hand_raised`` event, and ``lead.mql_at`` (the
  last promotion; it covers leads written without events). An outbound prospect starts as
  working, so it has no MQL moment unless the prospect later asks for a call.
- ``routed_at``: the first ``routed`` event (routing, the unassigned queue, or an AM claim).
- ``first_touch_at`` / ``last_touch_at``: the first and last rep touch: an ``Activity`` of a
  kind in ``leads.models.TOUCH_KINDS`` logged by a person (source ``manual``, what
  ``sdr.services.log_touch`` writes).
- ``handed_off_at`` / ``accepted_at`` / ``rejected_at``: the first of each over the lead's
  new-business opportunities (renewals and upsells are the AMs', not the funnel's);
  ``reject_reason``: of the first rejected one.
- ``won_at`` / ``won_amount``: the first won one's ``closed_at`` and amount; ``lost_at`` /
  ``lost_reason`` / ``early_loss``: the first lost one's (``early_loss`` as ``move_stage``
  flagged it, ``accounts.models.EARLY_LOSS_DAYS``).
- ``accepted_amount``: the sum of the amounts of the accepted opportunities (NULL when none
  was accepted or none has an amount).
- ``closed_out_at`` / ``close_out_reason`` / ``close_out_status``: the LAST status event to
  disqualified, or to nurture from a sales status (MQL, working, handed off), with its
  message (the SDR's disposition reason, or the cooling sweep's "engagement decayed" for an
  unworked MQL) and its ``to_status`` ('disqualified' or 'nurture'). The lead's status now
  cannot say which: a lead sent to nurture, later handed off, lost and recycled is
  'recycled' now, and a disqualified lead recycled and worked again is 'working'.
- ``response_seconds``: ``first_touch_at`` minus the moment the clock started
  (``routed_at``, else ``mql_at``, else ``captured_at``), in whole seconds (rounded), never
  negative; NULL while untouched.
- ``response_business_seconds``: the same interval counted only while the lead's team was
  at work, in its team's ``BusinessCalendar`` (hours, holidays, time zone, DST exactly as
  ``team.calendar`` counts an SLA: a table of the calendars' open spans in UTC, built in
  Python by ``team.calendar``'s own day walk, and a SQL SUM of the overlaps). A lead with no
  team (never routed, no owner) counts the wall clock, and so does a calendar with no hours
  (as ``work.services.Schedules`` does for SLAs).
- ``first_touch_breached``: the lead's first-touch work item has a breach (the sweep recorded
  one). Stored so the speed diagnosis counts a column, not a probe of the work items per lead.

Refreshing:

- ``rebuild()`` recomputes every lead (the nightly task; it also deletes the facts of leads
  that no longer exist). ``refresh()`` recomputes the leads that changed since the last run:
  a lead event, a rep touch or a first-touch breach with an id above the watermarks in
  ``RefreshState`` (the breach sweep writes no lead event), a new-business opportunity
  updated (``updated_at``) since the last run, a lead with an id above every fact's (a
  lead written without any event), or a lead whose campaign was edited (``updated_at``)
  since the last run and whose fact's ``channel`` is no longer the campaign's (the only
  column a campaign gives; a campaign's cost or name edited recomputes nothing). A
  transaction may commit after a higher id or a later time was seen, so each run re-checks
  the last ``ID_OVERLAP`` ids and ``TIME_OVERLAP`` of time. The other writes that change a
  fact column write a lead event for it: fit scores recomputed in bulk after the profile
  changed (``leads.services.recompute_fit_scores``: a "details updated" event per lead whose
  grade moved) and a lead edited in the admin (``leads.services.update_lead``).
- A fact is written only when a column differs (``ON CONFLICT ... WHERE ... IS DISTINCT
  FROM``), so both return how many facts were written (new or changed), re-runs write
  nothing, and ``refreshed_at`` says when a fact last changed.
- Runs are serialised on the ``RefreshState`` row: a refresh finding another run in
  progress skips (the next minute catches up); a rebuild waits for it.
"""

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Opportunity
from leads.models import TOUCH_KINDS, Activity, ActivitySource, Campaign, Lead, LeadEvent
from team.calendar import Schedule, day_intervals
from team.models import BusinessCalendar, Role, Team, User
from work.models import Breach, WorkItem

from .models import LeadFact, RefreshState

logger = logging.getLogger(__name__)

ID_OVERLAP = 1_000
TIME_OVERLAP = timedelta(minutes=5)
# The calendars' open spans (UTC), rebuilt for the days each run needs: a temporary table,
# so it is per connection and per run (calendar data, not lead rows).
SPANS = "insight_calendar_spans"
SPANS_HELD = "insight_calendar_spans_held"  # which calendars and days the spans table holds
# Rows per INSERT of spans: 3 parameters each, under SQLite's old limit of 999 variables.
SPANS_PER_INSERT = 300
SALES_STATUSES = (Lead.Status.MQL, Lead.Status.WORKING, Lead.Status.HANDED_OFF)
SDR_ROLES = (Role.INBOUND_SDR, Role.OUTBOUND_SDR)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The columns written, in the order the SELECT produces them.
COLUMNS = (
    "lead_id",
    "campaign_id",
    "channel",
    "source",
    "team_id",
    "sdr_id",
    "ae_id",
    "origin",
    "fit_grade",
    "hand_raiser",
    "status",
    "captured_at",
    "mql_at",
    "routed_at",
    "first_touch_at",
    "last_touch_at",
    "handed_off_at",
    "accepted_at",
    "rejected_at",
    "won_at",
    "lost_at",
    "closed_out_at",
    "response_seconds",
    "response_business_seconds",
    "first_touch_breached",
    "accepted_amount",
    "won_amount",
    "reject_reason",
    "lost_reason",
    "early_loss",
    "close_out_reason",
    "close_out_status",
    "refreshed_at",
)


# --- the public functions ---------------------------------------------------------------------


def rebuild(now: datetime | None = None) -> int:
    """Recompute the fact of every lead (and drop the facts of deleted leads). Returns how
    many facts were written or removed (a fact already right is not rewritten)."""
    now = now or timezone.now()
    RefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RefreshState.objects.select_for_update().get(pk=1)
        marks = _watermarks()
        written = _write(None, now) + _delete_orphans()
        _advance(state, marks, now)
        if written:
            state.generation += 1  # with the facts: what insight.answers remembered is stale
        state.rebuilt_at = now
        state.save()
    logger.info("Lead facts rebuilt: %s written", written)
    return written


def refresh(now: datetime | None = None) -> int:
    """Recompute the facts of the leads that changed since the last run (see the module
    docstring). Returns how many facts were written; 0 when another run holds the state."""
    now = now or timezone.now()
    RefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RefreshState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            return 0  # a rebuild or another refresh is running: the next minute catches up
        marks = _watermarks()
        if state.incremental_at is None and state.rebuilt_at is None:
            written = _write(None, now)  # never run: everything is new
        else:
            written = _write(changed_leads_sql(state), now)
        _advance(state, marks, now)
        if written:
            state.generation += 1
        state.save()
    return written


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
    sql = f"""
        SELECT e.lead_id FROM {LeadEvent._meta.db_table} e WHERE e.id > %s
        UNION SELECT a.lead_id FROM {Activity._meta.db_table} a
            WHERE a.id > %s AND a.kind IN ({kinds}) AND a.source = %s
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
        str(ActivitySource.MANUAL),
        _adapt(since),
        str(Opportunity.Kind.NEW_BUSINESS),
        newest,
        state.breach_id - ID_OVERLAP,
        str(WorkItem.Kind.FIRST_TOUCH),
        _lead_type_id(),
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
            [_adapt(since)],
        )
        rows = cursor.fetchall()
    newest = next((lead for lead, campaign in rows if campaign is None), None)
    return newest or 0, [campaign for _, campaign in rows if campaign is not None]


def facts_sql_for(lead_ids: "QuerySet | tuple[str, Sequence] | None") -> tuple[str, list]:
    """The SELECT computing the facts of the leads ``lead_ids`` names (a queryset of lead ids,
    e.g. ``Lead.objects.filter(...).values("id")``, or ``(sql, params)`` with one column of
    ids; None: every lead), one row per lead with the columns in ``COLUMNS`` order.

    ``response_business_seconds`` reads the calendars' open spans from a temporary table:
    this fills it (in this connection) for the days those leads need, so run the SQL on the
    same connection before anything else refreshes it."""
    targets, now = _targets(lead_ids), timezone.now()
    first, last = _days_needed(targets, now)
    with connection.cursor() as cursor:
        materialize_spans(cursor, first or now.date(), last or now.date())
    return _facts_select(targets, now)


# --- the statement ------------------------------------------------------------------------


def _targets(lead_ids) -> tuple[str, list] | None:
    if lead_ids is None:
        return None
    if isinstance(lead_ids, QuerySet):
        sql, params = lead_ids.order_by().query.sql_with_params()
        return sql, list(params)
    sql, params = lead_ids
    return sql, list(params)


def _write(targets: tuple[str, list] | None, now: datetime) -> int:
    """Upsert the facts of ``targets`` (None: every lead); returns the rows written."""
    first, last = _days_needed(targets, now)
    if first is None:
        return 0  # no lead to compute
    with connection.cursor() as cursor:
        materialize_spans(cursor, first, last)  # type: ignore[arg-type]  # a first lead implies a last
        select, params = _facts_select(targets, now)
        table = LeadFact._meta.db_table
        updated = [c for c in COLUMNS if c != "lead_id"]
        assignments = ", ".join(f"{c} = excluded.{c}" for c in updated)
        differs = " OR ".join(
            _distinct(f"{table}.{c}", f"excluded.{c}") for c in updated if c != "refreshed_at"
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) {select}"
            f" ON CONFLICT (lead_id) DO UPDATE SET {assignments} WHERE {differs}",
            params,
        )
        return max(cursor.rowcount, 0)


def _facts_select(targets: tuple[str, list] | None, now: datetime) -> tuple[str, list]:
    """WITH ... SELECT: one fact row per target lead. Each CTE aggregates one source table
    (restricted to the targets), and the lead row joins them once."""
    event, activity = LeadEvent._meta.db_table, Activity._meta.db_table
    opportunity, lead = Opportunity._meta.db_table, Lead._meta.db_table
    params: list = []
    if targets is None:
        with_targets, only, leads = "", lambda column: "", f"{lead} l"
    else:
        # Distinct (an upsert may not touch a row twice), and the leads read from the targets
        # by key: PostgreSQL misjudges a CTE's size and would otherwise scan every lead.
        with_targets = f"targets(lead_id) AS (SELECT DISTINCT * FROM ({targets[0]}) given),"
        leads = f"targets JOIN {lead} l ON l.id = targets.lead_id"
        params += targets[1]
        only = lambda column: f" AND {column} IN (SELECT lead_id FROM targets)"  # noqa: E731

    S, K = Lead.Status, LeadEvent.Kind

    def quoted(values) -> str:
        return ", ".join(f"'{v}'" for v in values)  # our own enum values, never user input

    mql_event = f"e.kind = '{K.HAND_RAISED}' OR (e.kind IN ('{K.CAPTURED}', '{K.STATUS}') AND e.to_status = '{S.MQL}')"
    closes_out = (
        f"e.kind = '{K.STATUS}' AND (e.to_status = '{S.DISQUALIFIED}'"
        f" OR (e.to_status = '{S.NURTURE}' AND e.from_status IN ({quoted(SALES_STATUSES)})))"
    )
    mql_at = _earliest("ev.mql_at", "l.mql_at")
    clock_start = f"COALESCE(ev.routed_at, {mql_at}, l.captured_at)"
    new = Opportunity.Kind.NEW_BUSINESS
    OS = Opportunity.Status
    spans_sql = (
        f"SELECT SUM({_seconds(_least('s.ends_at', 'b.first_touch_at'), _greatest('s.starts_at', 'b.clock_start'))})"
        f" FROM {SPANS} s WHERE s.calendar_id = b.calendar_id AND s.starts_at >= {_days_before('b.clock_start', 2)}"
        " AND s.starts_at < b.first_touch_at AND s.ends_at > b.clock_start"
    )
    wall = f"ROUND({_seconds('b.first_touch_at', 'b.clock_start')})"
    sql = f"""
    WITH {with_targets}
    ev AS (
        SELECT e.lead_id,
            MIN(CASE WHEN {mql_event} THEN e.at END) AS mql_at,
            MIN(CASE WHEN e.kind = '{K.ROUTED}' THEN e.at END) AS routed_at
        FROM {event} e
        WHERE e.kind IN ('{K.HAND_RAISED}', '{K.CAPTURED}', '{K.STATUS}', '{K.ROUTED}'){only("e.lead_id")}
        GROUP BY e.lead_id
    ),
    closeout AS (
        SELECT lead_id, at, message, to_status FROM (
            SELECT e.lead_id, e.at, e.message, e.to_status,
                ROW_NUMBER() OVER (PARTITION BY e.lead_id ORDER BY e.at DESC, e.id DESC) AS n
            FROM {event} e WHERE {closes_out}{only("e.lead_id")}
        ) last_one WHERE n = 1
    ),
    touch AS (
        SELECT a.lead_id, MIN(a.occurred_at) AS first_at, MAX(a.occurred_at) AS last_at
        FROM {activity} a
        WHERE a.kind IN ({quoted(TOUCH_KINDS)}) AND a.source = '{ActivitySource.MANUAL}'{only("a.lead_id")}
        GROUP BY a.lead_id
    ),
    breached AS (
        SELECT DISTINCT w.object_id AS lead_id
        FROM {WorkItem._meta.db_table} w JOIN {Breach._meta.db_table} br ON br.work_item_id = w.id
        WHERE w.kind = '{WorkItem.Kind.FIRST_TOUCH}' AND w.content_type_id = {_lead_type_id():d}{only("w.object_id")}
    ),
    ranked AS (
        SELECT o.lead_id, o.sdr_id, o.owner_id, o.origin, o.status, o.amount, o.handed_off_at,
            o.accepted_at, o.rejected_at, o.reject_reason, o.closed_at, o.lost_reason, o.early_loss,
            ROW_NUMBER() OVER (PARTITION BY o.lead_id ORDER BY o.handed_off_at, o.id) AS n_handoff,
            ROW_NUMBER() OVER (
                PARTITION BY o.lead_id, CASE WHEN o.accepted_at IS NULL THEN 1 ELSE 0 END
                ORDER BY o.accepted_at, o.id
            ) AS n_accepted,
            ROW_NUMBER() OVER (
                PARTITION BY o.lead_id, o.status ORDER BY o.closed_at, o.rejected_at, o.id
            ) AS n_status
        FROM {opportunity} o
        WHERE o.kind = '{new}' AND o.lead_id IS NOT NULL{only("o.lead_id")}
    ),
    opp AS (
        SELECT lead_id,
            MIN(handed_off_at) AS handed_off_at,
            MIN(accepted_at) AS accepted_at,
            MIN(rejected_at) AS rejected_at,
            SUM(CASE WHEN accepted_at IS NOT NULL THEN amount END) AS accepted_amount,
            MAX(CASE WHEN n_handoff = 1 THEN sdr_id END) AS sdr_id,
            MAX(CASE WHEN n_handoff = 1 THEN owner_id END) AS first_owner_id,
            MAX(CASE WHEN n_accepted = 1 AND accepted_at IS NOT NULL THEN owner_id END) AS accepted_owner_id,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.REJECTED}' THEN reject_reason END) AS reject_reason,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.WON}' THEN closed_at END) AS won_at,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.WON}' THEN amount END) AS won_amount,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' THEN closed_at END) AS lost_at,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' THEN lost_reason END) AS lost_reason,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' AND early_loss THEN 1 ELSE 0 END) AS early_loss,
            MAX(CASE WHEN origin = '{Opportunity.Origin.OUTBOUND}' THEN 1 ELSE 0 END) AS outbound
        FROM ranked GROUP BY lead_id
    ),
    base AS (
        SELECT l.id AS lead_id, l.campaign_id, COALESCE(c.channel, '') AS channel, l.source,
            COALESCE(l.team_id, lo.team_id) AS team_id,
            COALESCE(opp.sdr_id, CASE WHEN lo.role IN ({quoted(SDR_ROLES)}) THEN l.owner_id END) AS sdr_id,
            COALESCE(opp.accepted_owner_id, opp.first_owner_id) AS ae_id,
            CASE WHEN l.source = '{LeadFact.Origin.OUTBOUND}' OR opp.outbound = 1
                THEN '{LeadFact.Origin.OUTBOUND}' ELSE '{LeadFact.Origin.INBOUND}' END AS origin,
            l.fit_grade, l.hand_raiser, l.status, l.captured_at,
            {mql_at} AS mql_at, ev.routed_at, touch.first_at AS first_touch_at, touch.last_at AS last_touch_at,
            opp.handed_off_at, opp.accepted_at, opp.rejected_at, opp.won_at, opp.lost_at,
            closeout.at AS closed_out_at, opp.accepted_amount, opp.won_amount,
            COALESCE(opp.reject_reason, '') AS reject_reason, COALESCE(opp.lost_reason, '') AS lost_reason,
            COALESCE(opp.early_loss, 0) AS early_loss,
            SUBSTR(COALESCE(closeout.message, ''), 1, 300) AS close_out_reason,
            COALESCE(closeout.to_status, '') AS close_out_status,
            {clock_start} AS clock_start,
            tm.calendar_id,
            CASE WHEN breached.lead_id IS NULL THEN 0 ELSE 1 END AS breached
        FROM {leads}
        LEFT JOIN {Campaign._meta.db_table} c ON c.id = l.campaign_id
        LEFT JOIN {User._meta.db_table} lo ON lo.id = l.owner_id
        LEFT JOIN {Team._meta.db_table} tm ON tm.id = COALESCE(l.team_id, lo.team_id)
        LEFT JOIN ev ON ev.lead_id = l.id
        LEFT JOIN touch ON touch.lead_id = l.id
        LEFT JOIN opp ON opp.lead_id = l.id
        LEFT JOIN closeout ON closeout.lead_id = l.id
        LEFT JOIN breached ON breached.lead_id = l.id
        WHERE 1 = 1
    )
    SELECT b.lead_id, b.campaign_id, b.channel, b.source, b.team_id, b.sdr_id, b.ae_id, b.origin,
        b.fit_grade, b.hand_raiser, b.status, b.captured_at, b.mql_at, b.routed_at,
        b.first_touch_at, b.last_touch_at, b.handed_off_at, b.accepted_at, b.rejected_at,
        b.won_at, b.lost_at, b.closed_out_at,
        CASE WHEN b.first_touch_at IS NULL THEN NULL
            WHEN b.first_touch_at <= b.clock_start THEN 0
            ELSE {_bigint(wall)} END AS response_seconds,
        CASE WHEN b.first_touch_at IS NULL THEN NULL
            WHEN b.first_touch_at <= b.clock_start THEN 0
            WHEN b.calendar_id IS NULL THEN {_bigint(wall)}
            ELSE {_bigint(f"ROUND(COALESCE(({spans_sql}), 0))")} END AS response_business_seconds,
        b.breached = 1 AS first_touch_breached,
        b.accepted_amount, b.won_amount, b.reject_reason, b.lost_reason,
        b.early_loss = 1 AS early_loss, b.close_out_reason, b.close_out_status, %s AS refreshed_at
    FROM base b
    WHERE 1 = 1
    """
    params.append(_adapt(now))
    return sql, params


def _delete_orphans() -> int:
    """The facts of leads deleted without the ORM's cascade (a raw DELETE): gone too."""
    table = LeadFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS"
            f" (SELECT 1 FROM {Lead._meta.db_table} l WHERE l.id = {table}.lead_id)"
        )
        return max(cursor.rowcount, 0)


# --- watermarks ---------------------------------------------------------------------------


def _watermarks() -> tuple[int, int, int]:
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


def _advance(state: RefreshState, marks: tuple[int, int, int], now: datetime) -> None:
    state.event_id = max(state.event_id, marks[0])
    state.activity_id = max(state.activity_id, marks[1])
    state.breach_id = max(state.breach_id, marks[2])
    state.opportunity_at = now
    state.campaign_at = now
    state.incremental_at = now


def _lead_type_id() -> int:
    """The content type of a lead (what a first-touch work item points at); cached by Django."""
    return ContentType.objects.get_for_model(Lead).pk


# --- business hours -----------------------------------------------------------------------


def _days_needed(targets: tuple[str, list] | None, now: datetime) -> tuple[date | None, date | None]:
    """The UTC days the targets' response clocks can span: from the earliest capture to the
    latest rep touch (or now), with two days' margin for the calendars' time zones. None when
    there is no target lead. For a few leads, each is looked up by its key (an ``IN`` lets
    PostgreSQL walk a whole index in time order instead)."""
    lead, activity = Lead._meta.db_table, Activity._meta.db_table
    kinds = ", ".join(["%s"] * len(TOUCH_KINDS))
    touch = f"a.kind IN ({kinds}) AND a.source = %s"
    touch_params = [*[str(k) for k in TOUCH_KINDS], str(ActivitySource.MANUAL)]
    if targets is None:
        sql = (
            f"SELECT (SELECT MIN(l.captured_at) FROM {lead} l),"
            f" (SELECT MAX(a.occurred_at) FROM {activity} a WHERE {touch})"
        )
        params = touch_params
    else:
        sql = (
            f"WITH targets(lead_id) AS ({targets[0]})"
            f" SELECT MIN((SELECT l.captured_at FROM {lead} l WHERE l.id = t.lead_id)),"
            f" MAX((SELECT MAX(a.occurred_at) FROM {activity} a WHERE a.lead_id = t.lead_id AND {touch}))"
            " FROM targets t"
        )
        params = [*targets[1], *touch_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        first, last = cursor.fetchone()
    if first is None:
        return None, None
    first = _as_datetime(first)
    last = max(_as_datetime(last), now) if last is not None else now
    return (first - timedelta(days=2)).date(), (last + timedelta(days=2)).date()


def schedules() -> dict[int, Schedule]:
    """Every calendar as a ``team.calendar.Schedule`` (two queries); one without hours counts
    the wall clock in its zone, as SLAs do (``work.services.Schedules``)."""
    calendars = BusinessCalendar.objects.prefetch_related(Prefetch("hours"), Prefetch("holidays")).order_by(
        "pk"
    )
    result = {}
    for calendar in calendars:
        schedule = Schedule.from_calendar(calendar)
        result[calendar.pk] = schedule if schedule.has_hours else Schedule.always_open(calendar.timezone)
    return result


def calendar_spans(schedule: Schedule, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The open spans (UTC) of ``schedule`` on the local days ``first`` to ``last``, by the
    same day walk ``team.calendar.business_minutes_between`` sums (DST gaps and repeats,
    holidays, shifts to midnight)."""
    spans = []
    day = first
    while day <= last:
        spans += day_intervals(schedule, day)
        day += timedelta(days=1)
    return spans


def materialize_spans(cursor, first: date, last: date) -> int:
    """Make the temporary spans table hold every calendar's open spans on ``first`` to
    ``last`` (calendar data: a few rows per calendar and day). Returns the rows written.

    The spans are kept between runs on the same connection (the worker's refresh every
    minute): a second table records the calendars' fingerprint and the days held, and the
    spans are rewritten only when the calendars changed or the days needed fall outside those
    held (then over both ranges, so the held range only grows). Both tables are written in
    the caller's transaction, so a rollback takes the spans and their record back together.
    An idle refresh used to spend half its time walking two years of calendar days in Python
    and inserting thousands of spans row by row."""
    datetime_type = connection.data_types["DateTimeField"]
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SPANS}"
        f" (calendar_id bigint NOT NULL, starts_at {datetime_type} NOT NULL, ends_at {datetime_type} NOT NULL)"
    )
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {SPANS}_start ON {SPANS} (calendar_id, starts_at)")
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SPANS_HELD}"
        " (fingerprint varchar(64) NOT NULL, first_day varchar(10) NOT NULL, last_day varchar(10) NOT NULL)"
    )
    calendars = schedules()
    fingerprint = _fingerprint(calendars)
    cursor.execute(f"SELECT fingerprint, first_day, last_day FROM {SPANS_HELD}")
    held = cursor.fetchone()
    if held and held[0] == fingerprint:
        held_first, held_last = date.fromisoformat(held[1]), date.fromisoformat(held[2])
        if held_first <= first and last <= held_last:
            return 0  # the spans held cover the days needed
        first, last = min(first, held_first), max(last, held_last)
    rows = [
        (pk, begin, end)
        for pk, schedule in calendars.items()
        for begin, end in calendar_spans(schedule, first, last)
    ]
    _empty(cursor, SPANS, SPANS_HELD)
    _insert_spans(cursor, rows)
    cursor.execute(
        f"INSERT INTO {SPANS_HELD} (fingerprint, first_day, last_day) VALUES (%s, %s, %s)",
        [fingerprint, first.isoformat(), last.isoformat()],
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {SPANS}")  # a temporary table has no statistics otherwise
    return len(rows)


def _fingerprint(calendars: dict[int, Schedule]) -> str:
    """What the spans depend on (each calendar's zone, weekly hours and holidays), hashed."""
    described = [
        (pk, schedule.tz.key, schedule.weekly, sorted(schedule.holidays))
        for pk, schedule in sorted(calendars.items())
    ]
    return hashlib.sha256(repr(described).encode()).hexdigest()


def _empty(cursor, *tables: str) -> None:
    """TRUNCATE on PostgreSQL: a temporary table is never vacuumed, so rows deleted every
    minute would pile up for the life of the connection."""
    if connection.vendor == "postgresql":
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    else:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")


def _insert_spans(cursor, rows: list[tuple[int, datetime, datetime]]) -> None:
    """COPY on PostgreSQL; elsewhere multi-row INSERTs (not one statement per span)."""
    columns = "calendar_id, starts_at, ends_at"
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {SPANS} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for chunk in range(0, len(rows), SPANS_PER_INSERT):
        batch = rows[chunk : chunk + SPANS_PER_INSERT]
        cursor.execute(
            f"INSERT INTO {SPANS} ({columns}) VALUES " + ", ".join(["(%s, %s, %s)"] * len(batch)),
            [value for pk, begin, end in batch for value in (pk, _adapt(begin), _adapt(end))],
        )


# --- SQL dialect --------------------------------------------------------------------------


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _adapt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _as_datetime(value) -> datetime:
    """A timestamp read by raw SQL: aware on PostgreSQL, text (naive UTC) on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _seconds(later: str, earlier: str) -> str:
    """Seconds (fractional) from ``earlier`` to ``later``."""
    if _postgres():
        return f"EXTRACT(EPOCH FROM ({later}) - ({earlier}))"
    # Django's own SQLite function: exact microseconds (julianday is off by tens of them).
    return f"(django_timestamp_diff({later}, {earlier}) / 1000000.0)"


def _bigint(expression: str) -> str:
    return f"CAST({expression} AS BIGINT)"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _postgres() else f"MIN({a}, {b})"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _postgres() else f"MAX({a}, {b})"


def _earliest(a: str, b: str) -> str:
    """The earlier of two moments, either of which may be NULL."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"


def _days_before(moment: str, days: int) -> str:
    if _postgres():
        return f"({moment} - INTERVAL '{days} days')"
    return f"datetime({moment}, '-{days} days')"


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _postgres() else f"{a} IS NOT {b}"
