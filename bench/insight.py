"""Figure 7: insight at a million leads (issue 12), beside a plain GROUP BY over the raw rows.

1. The rollup: ``insight.facts.rebuild()`` over every lead (seconds, facts written); then
   ``insight.facts.refresh()`` with nothing changed (the every-minute sweep when idle), and
   after 100 and 1,000 typical writes (``sdr.services.log_touch`` by the lead's SDR: half of
   them first touches on open MQLs, which move the lead to working, half further touches on
   working leads), reported as ms per changed lead. The write path's own cost: the
   statements each ``log_touch`` sends, and how many of them touch an ``insight_`` table
   (zero when the facts are refreshed by the sweep, not by the writes).
2. The pages: server time (p50/p95) and queries per request of ``GET /insight/`` (and
   ``/insight/funnel/``, ``/insight/speed/``, ``/insight/money/``, ``/insight/retention/``
   when they resolve) through Django's test ``Client`` in process, as a manager (who sees every lead; team calendar in
   Europe/Berlin, so periods are cut in that zone), for the last 7, 30, 90 and 365 days, each
   with no filter and with each single filter (campaign, channel, source, team, sdr, origin,
   fit_grade). Baseline: the same cohort numbers (captured, MQL, worked, handed off, accepted,
   won, median capture-to-first-touch) computed by one plain GROUP BY statement over the raw
   rows (``leads_lead`` joined to its touches and opportunities), timed the same way.
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements of the slowest page request, with
   the indexes they use; a sequential scan of a large table is listed as a problem.

The data set, in SQL (``INSERT ... SELECT FROM generate_series``): 50 campaigns over 6
channels with costs and run dates; 90% of the leads from ``bench.queues.generate`` (200 SDRs
in 8 teams, their MQLs, working and closed leads, work items, touches, routed events), the
other 10% from ``bench.opportunities.generate`` (AE teams, accounts, contacts, new-business
opportunities awaiting acceptance, rejected, open, won and lost with amounts and reasons);
then what those generators leave out and insight reads: each lead's captured and status
events, its source (the campaign's channel, else web, referral or outbound), touches on the
opportunities' leads, touches moved to a realistic delay after the MQL (0 to 5 hours, as the
first-touch items say), an AM team and a contract per won opportunity (renewed, expanded or
churned when its year is over).
"""

import gc
import re
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from time import perf_counter_ns as time_ns

from django.utils import timezone

from .env import connect, create_team
from .plans import abridge, cut
from .timing import StatementTimer, Timer, percentile

CAMPAIGNS = 50
CHANNELS = ("paid_search", "email", "event", "webinar", "social", "partner")
PERIODS = (7, 30, 90, 365)
FILTERS = ("campaign", "channel", "source", "team", "sdr", "origin", "fit_grade")
PAGES = (  # (name, URL name, its arguments)
    ("overview", "insight:overview", {}),
    ("funnel", "insight:section", {"section": "funnel"}),
    ("speed", "insight:section", {"section": "speed"}),
    ("money", "insight:section", {"section": "money"}),
    ("retention", "insight:section", {"section": "retention"}),
)
WRITES = (100, 1_000)
IDLE_REFRESHES = 3
PAGE_WARMUP = 3
# A case whose first request takes longer than this is far over the target: it gets one
# warm-up request and this many timed ones (its p95 is then their maximum), so that a slow
# page does not hold the run for hours. The table gives each case's request count.
SLOW_CASE_MS = 1_000.0
SLOW_CASE_REQUESTS = 3
PAGE_TARGET_MS = 200.0  # the figure: p95 for any period up to a year and every filter
# Requests per case with the remembered answers forgotten first (insight.answers): what a
# question costs the first time it is asked after the facts changed, when no re-warm had it.
COMPUTED_REQUESTS = 5
SLOW_STATEMENTS = 3  # statements of the slowest request explained
BIG_TABLES = (
    "insight_leadfact",
    "leads_lead",
    "leads_activity",
    "leads_leadevent",
    "accounts_opportunity",
    "renewals_contract",
    "work_workitem",
)
TOUCHES = ("call", "email", "voicemail", "social", "meeting_booked")
AMS = 10
ZONE = "Europe/Berlin"


# --- the data set --------------------------------------------------------------------------

CAMPAIGNS_SQL = """
INSERT INTO leads_campaign (name, channel, cost, starts_on, ends_on, is_active, created_at, updated_at)
SELECT 'Insight campaign ' || c,
       (%(channels)s::text[])[1 + c %% cardinality(%(channels)s::text[])],
       2000 + (c * 7919) %% 48000,
       %(today)s::date - 730 + (c * 14),
       %(today)s::date - 730 + (c * 14) + 30 + (c * 31) %% 150,
       true, %(now)s::timestamptz - interval '2 years', %(now)s::timestamptz - interval '2 years'
FROM generate_series(0, %(n)s - 1) AS c
RETURNING id
"""

# The queues generator's closed leads include handed-off, won and lost ones without an
# opportunity: here they were disqualified by their SDR (the opportunities come from the
# opportunities generator); and a lead's source is its campaign's channel, else web,
# referral or outbound prospecting (the opportunities' leads keep theirs: web or outbound,
# which their opportunity's origin follows).
LEADS_FIX_SQL = """
UPDATE leads_lead l
SET status = CASE WHEN l.id <= %(base)s AND l.status IN ('handed_off', 'won', 'lost') THEN 'disqualified'
                  ELSE l.status END,
    status_reason = CASE WHEN l.id <= %(base)s AND l.status IN ('handed_off', 'won', 'lost')
                         THEN 'No budget' ELSE l.status_reason END,
    source = CASE WHEN l.id > %(base)s THEN l.source  -- the opportunity's origin follows it
                  ELSE COALESCE(c.channel, (ARRAY['web', 'web', 'referral', 'outbound'])[1 + (l.id * 13) %% 4]) END
FROM leads_lead x LEFT JOIN leads_campaign c ON c.id = x.campaign_id
WHERE x.id = l.id
"""

# Touches happen after the MQL, 0 to 5 hours later (the done first-touch items' completion).
TOUCH_DELAY_SQL = """
UPDATE leads_activity
SET occurred_at = occurred_at + interval '5 hours' + ((lead_id * 13) %% 300) * interval '1 minute'
WHERE source = 'manual' AND lead_id <= %(base)s
"""

# The opportunities' leads were worked: two touches by their SDR before the handoff.
OPPORTUNITY_TOUCHES_SQL = """
INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome, actor_id, campaign_id)
SELECT l.id, (ARRAY['call', 'email'])[j], l.mql_at + ((l.id * 13) %% 300) * interval '1 minute'
       + (j - 1) * interval '1 day', 0, 'manual', '', '', l.owner_id, l.campaign_id
FROM leads_lead l, generate_series(1, 2) AS j
WHERE l.id > %(base)s
"""

# The timeline insight reads: captured (every lead), routed (the opportunities' leads; the
# queues generator wrote the others'), status: to MQL, to working at the first touch, to the
# lead's final status.
EVENTS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT id, 'captured', captured_at, 'web_form', '',
       CASE WHEN mql_at IS NOT NULL AND mql_at <= captured_at THEN 'mql' ELSE 'nurture' END,
       CASE WHEN hand_raiser THEN 'Asked for a call.' ELSE '' END, NULL::bigint, campaign_id
FROM leads_lead
UNION ALL
SELECT id, 'routed', mql_at, '', '', '', 'Routed by rule', NULL::bigint, NULL::bigint
FROM leads_lead WHERE id > %(base)s
UNION ALL
SELECT id, 'status', mql_at, 'web_form', 'nurture', 'mql', 'Engagement crossed the MQL threshold', NULL, NULL
FROM leads_lead WHERE mql_at IS NOT NULL AND mql_at > captured_at
UNION ALL
SELECT l.id, 'status', l.mql_at + ((l.id * 13) %% 300) * interval '1 minute', 'manual', 'mql', 'working',
       'First touch', l.owner_id, NULL
FROM leads_lead l WHERE l.mql_at IS NOT NULL AND l.owner_id IS NOT NULL AND l.status <> 'mql'
UNION ALL
SELECT l.id, 'status', l.mql_at + interval '3 days', 'manual', 'working', l.status, l.status_reason,
       l.owner_id, NULL
FROM leads_lead l WHERE l.id <= %(base)s AND l.status IN ('disqualified', 'recycled') AND l.mql_at IS NOT NULL
UNION ALL
SELECT o.lead_id, 'status', o.handed_off_at, 'manual', 'working', 'handed_off', 'Handed off', o.sdr_id, NULL
FROM accounts_opportunity o
UNION ALL
SELECT o.lead_id, 'status', o.closed_at, '', 'handed_off', o.status, o.lost_reason, o.owner_id, NULL
FROM accounts_opportunity o WHERE o.status IN ('won', 'lost')
"""

# A contract per won opportunity: a year from the close; when the year is over, renewed
# (a third expanded by 20%) or, one in seven, churned. The account becomes a customer of an AM.
CONTRACTS_SQL = """
INSERT INTO renewals_contract (number, source, opportunity_id, renewed_from_id, renewal_id, start_date,
    end_date, annual_value, products, seats, auto_renew, status, outcome, closed_at, churn_reason,
    outcome_note, renewal_activity_at, created_at, created_by_id, account_id)
SELECT '', 'won', o.id, NULL, NULL, s.start, s.start + 364, o.amount, 'Refinery Growth', 10 + o.id %% 90,
       o.id %% 5 = 0,
       CASE WHEN s.start + 364 >= %(today)s::date THEN 'active' WHEN o.id %% 7 = 0 THEN 'churned'
            ELSE 'renewed' END,
       CASE WHEN s.start + 364 >= %(today)s::date THEN '' WHEN o.id %% 7 = 0 THEN 'churned'
            WHEN o.id %% 3 = 0 THEN 'expanded' ELSE 'renewed' END,
       CASE WHEN s.start + 364 < %(today)s::date THEN (s.start + 365)::timestamptz END,
       CASE WHEN s.start + 364 < %(today)s::date AND o.id %% 7 = 0
            THEN (%(churn_reasons)s::text[])[1 + o.id %% cardinality(%(churn_reasons)s::text[])] ELSE '' END,
       '', NULL, o.closed_at, NULL, o.account_id
FROM accounts_opportunity o, LATERAL (SELECT (o.closed_at AT TIME ZONE 'UTC')::date AS start) s
WHERE o.status = 'won' AND o.amount IS NOT NULL
"""

RENEWED_CONTRACTS_SQL = """
INSERT INTO renewals_contract (number, source, opportunity_id, renewed_from_id, renewal_id, start_date,
    end_date, annual_value, products, seats, auto_renew, status, outcome, closed_at, churn_reason,
    outcome_note, renewal_activity_at, created_at, created_by_id, account_id)
SELECT '', 'renewal', NULL, c.id, NULL, c.end_date + 1, c.end_date + 365,
       CASE WHEN c.outcome = 'expanded' THEN c.annual_value * 1.2 ELSE c.annual_value END,
       c.products, c.seats, c.auto_renew, 'active', '', NULL, '', '', c.closed_at, c.closed_at, NULL, c.account_id
FROM renewals_contract c WHERE c.status = 'renewed'
"""

CUSTOMERS_SQL = """
UPDATE accounts_account a
SET account_manager_id = (%(ams)s::bigint[])[1 + a.id %% cardinality(%(ams)s::bigint[])],
    customer_since = w.since,
    churned_at = CASE WHEN w.active = 0 THEN w.last_closed END
FROM (SELECT account_id, min(created_at) AS since, max(closed_at) AS last_closed,
             count(*) FILTER (WHERE status = 'active') AS active
      FROM renewals_contract GROUP BY account_id) w
WHERE w.account_id = a.id
"""


@dataclass
class DataSet:
    leads: int
    base_leads: int  # the queues generator's leads (ids up to this)
    reps: list[int]
    teams: list[int]
    campaigns: list[int]
    manager: int  # the manager the pages are measured as
    filter_values: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0


def create_campaigns(n: int = CAMPAIGNS) -> list[int]:
    now = timezone.now()
    with connect() as conn:
        rows = conn.execute(
            CAMPAIGNS_SQL, {"n": n, "channels": list(CHANNELS), "today": now.date(), "now": now}
        ).fetchall()
    return [r[0] for r in rows]


def retire_earlier_people() -> int:
    """When the queues or opportunities figure ran earlier in this run, their teams, calendars
    and people still hold the names the generators create: rename them out of the way and
    deactivate them and their territory rules (their leads went with the generators'
    TRUNCATE). Returns the teams retired."""
    from . import opportunities, queues

    names = [t[0] for t in (*queues.TEAMS, *opportunities.AE_TEAMS)]
    with connect() as conn:
        teams = [r[0] for r in conn.execute("SELECT id FROM team_team WHERE name = ANY(%s)", [names])]
        if not teams:
            return 0
        conn.execute(
            "UPDATE team_businesscalendar SET name = left(name, 80) || ' (retired ' || id || ')'"
            " WHERE id IN (SELECT calendar_id FROM team_team WHERE id = ANY(%s))",
            [teams],
        )
        conn.execute(
            "UPDATE team_team SET name = left(name, 80) || ' (retired ' || id || ')' WHERE id = ANY(%s)",
            [teams],
        )
        conn.execute(
            "UPDATE team_user SET username = username || '-retired', is_active = false"
            " WHERE username LIKE 'q-%%' OR username LIKE 'o-%%'"
        )
        conn.execute("UPDATE sdr_territoryrule SET is_active = false WHERE team_id = ANY(%s)", [teams])
    return len(teams)


def generate(n: int, log=print) -> DataSet:
    """``n`` leads (a multiple of 100,000): 90% from the queues generator, 10% with an
    opportunity from the opportunities generator, then insight's own additions."""
    from renewals.models import CHURN_REASONS
    from team.models import Role, Team

    from . import opportunities, queues

    if n % 100_000 or n < 200_000:
        raise ValueError("the insight data set needs a multiple of 100,000 leads, at least 200,000")
    with Timer() as timer:
        if retired := retire_earlier_people():
            log(f"insight: retired {retired} teams of the earlier figures (their names are the generators')")
        campaigns = create_campaigns()
        queue_leads, opportunity_count = n - n // 10, n // 10
        log(f"insight: queues generator, {queue_leads:,} leads, 200 SDRs in 8 teams")
        queues_data = queues.generate(queue_leads, campaigns=campaigns)
        log(f"insight: opportunities generator, {opportunity_count:,} opportunities with their leads")
        opportunities.generate(opportunity_count, campaigns=campaigns, queues_data=queues_data)
        _, ams = create_team(
            0, "Account Management Insight", ZONE, kind=Team.Kind.ACCOUNT_MANAGEMENT, role=Role.AM,
            size=AMS, tag="i", member_tag="am", word="Keeper", manager_email="am.insight@refinery.example",
        )  # fmt: skip
        # The manager the pages are measured as: inbound team 0's, in its calendar's zone.
        manager = Team.objects.get(pk=queues_data.teams[0]).manager
        manager.team_id = queues_data.teams[0]
        manager.save(update_fields=["team"])
        now = timezone.now()
        params = {
            "base": queue_leads,
            "today": now.date(),
            "churn_reasons": list(CHURN_REASONS),
            "ams": [u.pk for u in ams],
        }
        log("insight: sources, touch delays, events, contracts")
        with connect() as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            for statement in (
                LEADS_FIX_SQL,
                TOUCH_DELAY_SQL,
                OPPORTUNITY_TOUCHES_SQL,
                EVENTS_SQL,
                CONTRACTS_SQL,
                RENEWED_CONTRACTS_SQL,
                CUSTOMERS_SQL,
            ):
                conn.execute(statement, params)
            for table in (*BIG_TABLES[1:], "accounts_account", "leads_campaign"):
                conn.execute(f"VACUUM ANALYZE {table}")
            conn.execute("CHECKPOINT")
    data = DataSet(
        leads=n,
        base_leads=queue_leads,
        reps=list(queues_data.reps),
        teams=list(queues_data.teams),
        campaigns=campaigns,
        manager=manager.pk,
        generate_seconds=timer.seconds,
    )
    data.counts = count_data()
    data.filter_values = filter_values(data)
    return data


def count_data() -> dict[str, int]:
    with connect() as conn:

        def one(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]

        return {
            "leads": one("SELECT count(*) FROM leads_lead"),
            "events": one("SELECT count(*) FROM leads_leadevent"),
            "activities": one("SELECT count(*) FROM leads_activity"),
            "touches": one(
                "SELECT count(*) FROM leads_activity WHERE kind IN ('call', 'email', 'voicemail', 'social',"
                " 'meeting_booked')"
            ),
            "opportunities": one("SELECT count(*) FROM accounts_opportunity"),
            "won": one("SELECT count(*) FROM accounts_opportunity WHERE status = 'won'"),
            "contracts": one("SELECT count(*) FROM renewals_contract"),
            "campaigns": one("SELECT count(*) FROM leads_campaign"),
            "work_items": one("SELECT count(*) FROM work_workitem"),
        }


def filter_values(data: DataSet) -> dict[str, str]:
    """One value per filter, the one that selects the most leads (the slowest case)."""
    with connect() as conn:

        def top(sql: str) -> str:
            return str(conn.execute(sql).fetchone()[0])

        return {
            "campaign": top(
                "SELECT campaign_id FROM leads_lead WHERE campaign_id IS NOT NULL"
                " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            "channel": top(
                "SELECT c.channel FROM leads_lead l JOIN leads_campaign c ON c.id = l.campaign_id"
                " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            "source": top("SELECT source FROM leads_lead GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"),
            "team": str(data.teams[0]),
            "sdr": str(data.reps[0]),
            "origin": "outbound",
            "fit_grade": "A",
        }


# --- 1. the rollup and its cost per write -----------------------------------------------------


@dataclass
class Refresh:
    writes: int  # leads changed before the refresh (0: idle)
    ms: float
    refreshed: int  # what refresh() returned

    @property
    def ms_per_lead(self) -> float | None:
        return self.ms / self.writes if self.writes else None


@dataclass
class FactsCost:
    available: bool
    note: str = ""
    rebuild_seconds: float = 0.0
    rebuilt: int = 0
    facts: int = 0  # rows in insight_leadfact after the rebuild
    idle: list[Refresh] = field(default_factory=list)
    after_writes: list[Refresh] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)  # one log_touch each
    write_statements: list[int] = field(default_factory=list)
    write_insight_statements: list[int] = field(default_factory=list)
    idle_statements: list[tuple[str, float]] = field(default_factory=list)  # (statement, ms), slowest first
    idle_plan: str = ""  # EXPLAIN (ANALYZE, BUFFERS) of the idle refresh's slowest statement


def _facts_count() -> int:
    with connect() as conn:
        return conn.execute("SELECT count(*) FROM insight_leadfact").fetchone()[0]


def _writable_leads(data: DataSet, count: int, used: set[int]) -> list[tuple[int, int]]:
    """``count`` (lead, SDR) pairs, half open MQLs (their first touch), half working leads."""
    with connect() as conn:
        rows = []
        for status, k in (("mql", count // 2), ("working", count - count // 2)):
            rows += conn.execute(
                """SELECT id, owner_id FROM leads_lead
                   WHERE status = %s AND owner_id IS NOT NULL AND NOT (id = ANY(%s))
                   ORDER BY hashint8(id), id LIMIT %s""",
                [status, list(used), k],
            ).fetchall()
    used.update(r[0] for r in rows)
    return [tuple(r) for r in rows]


def _explain_one(sql: str, params) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, in a transaction rolled back (it may write)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
        except Exception as exc:  # a statement that needs its session's temporary table
            plan = f"(not explained: {type(exc).__name__}: {str(exc)[:200]})"
        transaction.set_rollback(True)
    return plan


def measure_facts(data: DataSet, log=print) -> FactsCost:
    from insight import facts
    from sdr.services import log_touch
    from team.models import User

    with Timer() as timer:
        rebuilt = facts.rebuild()
    cost = FactsCost(available=True, rebuild_seconds=timer.seconds, rebuilt=rebuilt, facts=_facts_count())
    log(f"insight: rebuild() {timer.seconds:.1f} s, returned {rebuilt:,}, {cost.facts:,} facts")
    if cost.facts == 0:
        cost.available = False
        cost.note = "insight.facts.rebuild() wrote no facts (not implemented yet)"
        log(f"insight: WARNING: {cost.note}")
    with connect() as conn:
        conn.execute("VACUUM ANALYZE insight_leadfact")

    for _ in range(IDLE_REFRESHES):
        with Timer() as timer:
            refreshed = facts.refresh()
        cost.idle.append(Refresh(0, timer.seconds * 1000, refreshed))
    # One more, traced: where an idle minute's refresh spends its time.
    with StatementTimer() as traced:
        facts.refresh()
    cost.idle_statements = sorted(
        ((abridge(sql, 200), ms) for sql, _, ms in traced.statements), key=lambda t: -t[1]
    )
    if traced.statements:
        sql, params, _ = max(traced.statements, key=lambda t: t[2])
        cost.idle_plan = _explain_one(sql, params)
    log(f"insight: refresh() with nothing changed: {', '.join(f'{r.ms:.1f}' for r in cost.idle)} ms")

    users = {u.pk: u for u in User.objects.filter(pk__in=data.reps)}
    used: set[int] = set()
    for n in WRITES:
        pairs = _writable_leads(data, n, used)
        gc.collect()
        for lead, sdr in pairs:
            with StatementTimer() as traced:
                start = time_ns()
                log_touch(lead_id=lead, by=users[sdr], kind="call", outcome="connected")
                cost.write_ms.append((time_ns() - start) / 1e6)
            cost.write_statements.append(len(traced.statements))
            cost.write_insight_statements.append(
                sum(1 for sql, _, _ in traced.statements if "insight_" in sql)
            )
        with Timer() as timer:
            refreshed = facts.refresh()
        cost.after_writes.append(Refresh(len(pairs), timer.seconds * 1000, refreshed))
        log(
            f"insight: {len(pairs):,} log_touch writes, then refresh() {timer.seconds * 1000:.0f} ms"
            f" ({timer.seconds * 1000 / len(pairs):.2f} ms per changed lead), returned {refreshed:,}"
        )
    with connect() as conn:
        for table in ("insight_leadfact", "leads_lead", "leads_activity", "leads_leadevent", "work_workitem"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return cost


# --- 2. the pages and the baseline -------------------------------------------------------------


@dataclass
class Case:
    """One (page, period, filter) measured: its requests' server times and queries."""

    page: str
    days: int
    filter: str  # "" for none
    query: str
    ms: list[float] = field(default_factory=list)  # served: the answers remembered
    computed_ms: list[float] = field(default_factory=list)  # the answers forgotten before each
    queries: int = 0
    computed_queries: int = 0
    same_as_unfiltered: bool = False  # the filter changed nothing on the page (suspicious)

    @property
    def p50_ms(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def computed_p50_ms(self) -> float:
        return percentile(self.computed_ms, 50)

    @property
    def computed_p95_ms(self) -> float:
        return percentile(self.computed_ms, 95)


@dataclass
class Page:
    name: str
    url: str
    measured: bool
    note: str = ""
    cases: list[Case] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # statement -> indexes used
    problems: list[str] = field(default_factory=list)
    slowest: str = ""  # the case whose statements were explained

    @property
    def p95_ms(self) -> float:
        return max(c.p95_ms for c in self.cases)

    @property
    def computed_p95_ms(self) -> float:
        return max(c.computed_p95_ms for c in self.cases)

    @property
    def worst(self) -> Case:
        return max(self.cases, key=lambda c: c.p95_ms)

    @property
    def worst_computed(self) -> Case:
        return max(self.cases, key=lambda c: c.computed_p95_ms)


@dataclass
class BaselineCase:
    days: int
    filter: str
    ms: list[float] = field(default_factory=list)
    numbers: dict[str, float | int | None] = field(default_factory=dict)
    insight: dict[str, int] | None = None  # insight.funnel.cohort's counts, when available

    @property
    def p50_ms(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def agrees(self) -> bool | None:
        if self.insight is None:
            return None
        return all(self.insight.get(k) == self.numbers.get(k) for k in STAGE_KEYS)


@dataclass
class InsightFigures:
    data: DataSet
    facts: FactsCost
    pages: list[Page]
    baseline: list[BaselineCase]
    period_query: str  # how a period was asked for
    requests: int  # timed requests per case
    rewarm: "Rewarm | None" = None

    @property
    def baseline_p95_ms(self) -> float:
        return max(b.p95_ms for b in self.baseline)


STAGE_KEYS = ("captured", "mql", "worked", "handed_off", "accepted", "won")

# The baseline: the cohort's numbers from the raw rows, one statement. Per lead (GROUP BY the
# lead): its first touch and its opportunities' first handoff, acceptance and win; then the
# counts and the median capture-to-first-touch over the cohort.
BASELINE_SQL = """
SELECT count(*) AS captured,
       count(*) FILTER (WHERE mql_at IS NOT NULL OR hand_raiser) AS mql,
       count(first_touch_at) AS worked,
       count(handed_off_at) AS handed_off,
       count(accepted_at) AS accepted,
       count(won_at) AS won,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM first_touch_at - COALESCE(mql_at, captured_at))) AS median_response_s
FROM (
    SELECT l.id, l.captured_at, l.mql_at, l.hand_raiser,
           min(a.occurred_at) AS first_touch_at,
           min(o.handed_off_at) AS handed_off_at,
           min(o.accepted_at) AS accepted_at,
           min(o.closed_at) FILTER (WHERE o.status = 'won') AS won_at
    FROM leads_lead l
    LEFT JOIN leads_campaign c ON c.id = l.campaign_id
    LEFT JOIN leads_activity a ON a.lead_id = l.id AND a.kind IN ('call', 'email', 'voicemail', 'social',
                                                                  'meeting_booked')
    LEFT JOIN accounts_opportunity o ON o.lead_id = l.id
    WHERE l.captured_at >= %(start)s AND l.captured_at < %(end)s {where}
    GROUP BY l.id
) per_lead
"""

BASELINE_FILTERS = {
    "": "",
    "campaign": "AND l.campaign_id = %(value)s::bigint",
    "channel": "AND c.channel = %(value)s",
    "source": "AND l.source = %(value)s",
    "team": "AND l.team_id = %(value)s::bigint",
    "sdr": "AND l.owner_id = %(value)s::bigint",
    "origin": "AND (l.source = 'outbound') = (%(value)s = 'outbound')",
    "fit_grade": "AND l.fit_grade = %(value)s",
}


def period_for(days: int):
    from zoneinfo import ZoneInfo

    from insight.scope import Period

    return Period.last_days(days, ZoneInfo(ZONE))


def period_query(days: int) -> dict[str, str]:
    """The query string that asks a page for the last ``days`` days, in the names the
    FilterSet (``insight.filters.InsightFilter``) declares: a start and an end date when it
    has them, else a ``period``/``days`` choice."""
    period = period_for(days)
    names = _filter_names()
    for start, end in (("start", "end"), ("since", "until"), ("from", "to"), ("period_start", "period_end")):
        if start in names and end in names:
            return {start: period.start.isoformat(), end: period.end.isoformat()}
    for name in ("period", "days", "last"):
        if name in names:
            return {name: str(days)}
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _filter_names() -> set[str]:
    try:
        from insight.filters import InsightFilter
    except ImportError:
        return set()
    return set(getattr(InsightFilter, "base_filters", {}))


def page_url(name: str, kwargs: dict) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _cases(data: DataSet) -> list[tuple[int, str, dict[str, str]]]:
    cases = []
    for days in PERIODS:
        base = period_query(days)
        cases.append((days, "", base))
        for name in FILTERS:
            cases.append((days, name, base | {name: data.filter_values[name]}))
    return cases


def measure_pages(data: DataSet, requests: int, log=print) -> list[Page]:
    from urllib.parse import urlencode

    from django.core.management import call_command
    from django.test import Client

    from team.models import User

    call_command("collectstatic", interactive=False, verbosity=0)
    manager = User.objects.get(pk=data.manager)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(manager)
    cases = _cases(data)
    pages = []
    for name, url_name, kwargs in PAGES:
        url = page_url(url_name, kwargs)
        if url is None:
            log(f"insight: {name}: no URL named {url_name} yet; not measured")
            pages.append(Page(name=name, url=url_name, measured=False, note=f"no URL named {url_name}"))
            continue

        def get(query: str, url=url) -> bytes:
            response = client.get(f"{url}?{query}")
            if response.status_code != 200:
                raise RuntimeError(f"{url}?{query} answered {response.status_code}")
            return response.content

        try:
            get(urlencode(cases[0][2]))
        except Exception as exc:  # the page is being built: say so, measure the others
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log(f"insight: WARNING: GET {url} failed ({reason}); not measured")
            pages.append(Page(name=name, url=url, measured=False, note=f"GET failed: {reason}"))
            continue
        page = Page(name=name, url=url, measured=True)
        log(f"insight: {name}: GET {url}, {len(cases)} cases x {requests} requests")
        unfiltered: dict[int, bytes] = {}
        for days, filter_name, params in cases:
            query = urlencode(params)
            case = Case(page=name, days=days, filter=filter_name, query=query)
            start = time_ns()
            body = get(query)  # the first warm-up request says how slow the case is
            first_ms = (time_ns() - start) / 1e6
            slow = first_ms > SLOW_CASE_MS
            for _ in range(0 if slow else PAGE_WARMUP - 1):
                body = get(query)
            if not filter_name:
                unfiltered[days] = body
            else:
                case.same_as_unfiltered = body == unfiltered[days]
            with StatementTimer() as traced:
                get(query)
            case.queries = len(traced.statements)
            gc.collect()
            for _ in range(min(requests, SLOW_CASE_REQUESTS) if slow else requests):
                start = time_ns()
                get(query)
                case.ms.append((time_ns() - start) / 1e6)
            forget_answers()
            with StatementTimer() as traced:
                get(query)
            case.computed_queries = len(traced.statements)
            for _ in range(min(COMPUTED_REQUESTS, SLOW_CASE_REQUESTS) if slow else COMPUTED_REQUESTS):
                forget_answers()  # not timed
                start = time_ns()
                get(query)
                case.computed_ms.append((time_ns() - start) / 1e6)
            page.cases.append(case)
        worst = page.worst_computed
        page.slowest = f"{worst.days} d, {worst.filter or 'no filter'}"
        forget_answers()  # the statements of the slowest case as computed, not as remembered
        with StatementTimer() as traced:
            get(worst.query)
        page.plans, page.indexes, page.problems = explain(_selects(traced.statements))
        log(
            f"insight: {name}: served p95 {page.p95_ms:.1f} ms at worst, computed p95"
            f" {page.computed_p95_ms:.1f} ms at worst ({page.slowest}),"
            f" {max(c.computed_queries for c in page.cases)} queries/request at most"
        )
        for problem in page.problems:
            log(f"insight: WARNING: {name}: {problem}")
        pages.append(page)
    return pages


def forget_answers() -> None:
    """A new generation of the facts, as a refresh that changed a fact makes: every remembered
    answer is stale (``insight.answers``), the list of statements to re-warm is kept."""
    from django.db.models import F

    from insight.models import RefreshState

    RefreshState.objects.filter(pk=1).update(generation=F("generation") + 1)


def _selects(captured) -> list[tuple[str, object]]:
    return [
        (sql, params)
        for sql, params, _ in captured
        if sql.lstrip()[:10].upper().startswith(("SELECT", "WITH", "("))
    ]


INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


def explain(statements: list[tuple[str, object]]) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """The ``SLOW_STATEMENTS`` slowest of ``statements`` (each timed once more), explained
    with ANALYZE and BUFFERS; the indexes each plan uses, and what looks wrong: a sequential
    scan of a large table."""
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if not any(f'"{t}"' in sql or f" {t} " in sql for t in BIG_TABLES):
                continue
            start = time_ns()
            cursor.execute(sql, params)
            cursor.fetchall()
            timed.append(((time_ns() - start) / 1e6, sql, params))
        timed.sort(key=lambda t: -t[0])
        plans, indexes, problems = {}, {}, []
        for ms, sql, params in timed[:SLOW_STATEMENTS]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            key = f"{ms:.1f} ms: {abridge(sql, 160)}"
            plans[key] = plan
            indexes[key] = sorted(set(INDEX_RE.findall(plan)))
            for table in BIG_TABLES:
                if re.search(rf"Seq Scan on {table}\b", plan):
                    problems.append(f"{abridge(sql, 80)} reads {table} with a sequential scan ({ms:.1f} ms)")
    return plans, indexes, problems


def measure_baseline(data: DataSet, requests: int, log=print) -> list[BaselineCase]:
    """The baseline statement for every (period, filter), timed like the pages; and, where
    ``insight.funnel.cohort`` exists, its stage counts for the same scope beside the
    baseline's (the same numbers, or a difference in definitions worth a look)."""
    from django.db import connection

    out = []
    with connection.cursor() as cursor:
        for days in PERIODS:
            period = period_for(days)
            for name in ("", *FILTERS):
                sql = BASELINE_SQL.format(where=BASELINE_FILTERS[name])
                params = {
                    "start": period.start_at,
                    "end": period.end_at,
                    "value": data.filter_values.get(name),
                }
                case = BaselineCase(days=days, filter=name)
                start = time_ns()
                cursor.execute(sql, params)
                columns = [c.name for c in cursor.description]
                row = cursor.fetchone()
                slow = (time_ns() - start) / 1e6 > SLOW_CASE_MS
                case.numbers = dict(zip(columns, row, strict=True))
                for _ in range(min(requests, SLOW_CASE_REQUESTS) if slow else requests):
                    start = time_ns()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    case.ms.append((time_ns() - start) / 1e6)
                case.insight = _insight_counts(data, days, name)
                out.append(case)
    worst = max(out, key=lambda b: b.p95_ms)
    log(
        f"insight: baseline GROUP BY: p95 {worst.p95_ms:.1f} ms at worst ({worst.days} d, {worst.filter or 'no filter'})"
    )
    return out


FACT_FILTERS = {
    "campaign": "campaign_id",
    "channel": "channel",
    "source": "source",
    "team": "team_id",
    "sdr": "sdr_id",
    "origin": "origin",
    "fit_grade": "fit_grade",
}


def _insight_counts(data: DataSet, days: int, name: str) -> dict[str, int] | None:
    try:
        from insight import funnel
        from insight.scope import Scope
        from team.models import User

        filters = {FACT_FILTERS[name]: data.filter_values[name]} if name else {}
        scope = Scope.for_user(User.objects.get(pk=data.manager), period_for(days), **filters)
        return {row.key: row.count for row in funnel.cohort(scope)}
    except Exception:  # not there yet, or not this contract: the column says "—"
        return None


# --- the figure ------------------------------------------------------------------------------


def measure(n: int, requests: int, log=print) -> InsightFigures:
    log(f"insight: generating {n:,} leads with their events, touches, opportunities and contracts")
    data = generate(n, log=log)
    log(f"insight: generated in {data.generate_seconds:.1f} s: {data.counts}")
    try:
        cost = measure_facts(data, log=log)
    except Exception as exc:  # the rollup is being built: the pages are measured anyway
        cost = FactsCost(available=False, note=f"{type(exc).__name__}: {exc}"[:300])
        traceback.print_exc()
        log(f"insight: WARNING: the rollup failed: {cost.note}")
    pages = measure_pages(data, requests, log=log)
    rewarmed = measure_rewarm(data, log=log) if cost.available else None
    baseline = measure_baseline(data, requests, log=log)
    return InsightFigures(
        data=data,
        facts=cost,
        pages=pages,
        baseline=baseline,
        period_query=", ".join(f"{k}=…" for k in period_query(7)),
        requests=requests,
        rewarm=rewarmed,
    )


@dataclass
class Rewarm:
    asked: int  # statements on the re-warm list after the page loop
    writes: int
    refresh_ms: float
    computed: int
    seconds: float
    answered_p95_ms: float  # the pages afterwards, served from the re-warmed answers


def measure_rewarm(data: DataSet, log=print) -> Rewarm:
    """After the page loop every case's statements are on the re-warm list: change the facts
    (``log_touch`` writes, then ``refresh()``, a new generation) and time
    ``insight.answers.rewarm`` answering them all again (no budget), then one request per
    365-day case, served from what it computed."""
    from urllib.parse import urlencode

    from django.core.cache import cache
    from django.test import Client

    from insight import answers, facts
    from leads.models import ActivityKind
    from sdr.services import log_touch
    from team.models import User

    asked = len(cache.get(answers.ASKED, []))
    targets = _writable_leads(data, WRITES[0], set())
    for lead_id, sdr_id in targets:
        log_touch(lead_id=lead_id, by=User.objects.get(pk=sdr_id), kind=ActivityKind.CALL)
    start = time_ns()
    facts.refresh()
    refresh_ms = (time_ns() - start) / 1e6
    start = time_ns()
    computed = answers.rewarm(budget=timedelta(hours=1))
    seconds = (time_ns() - start) / 1e9
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=data.manager))
    served = []
    for _, url_name, kwargs in PAGES:
        url = page_url(url_name, kwargs)
        for days, _, params in _cases(data):
            if days != max(PERIODS):
                continue
            start = time_ns()
            client.get(f"{url}?{urlencode(params)}")
            served.append((time_ns() - start) / 1e6)
    log(
        f"insight: re-warm after {len(targets)} writes: {computed} of {asked} statements in {seconds:.1f} s;"
        f" the 365-day cases afterwards p95 {percentile(served, 95):.1f} ms"
    )
    return Rewarm(asked, len(targets), refresh_ms, computed, seconds, percentile(served, 95))


def decimal_or(value, default="—") -> str:
    if value is None:
        return default
    if isinstance(value, Decimal | float):
        return f"{float(value):,.0f}"
    return f"{value:,}"
