"""Figure 4: SDR queues, routing and SLA timers (issue 3), each beside the bare SQL doing the
same work.

1. The queue page: server time per request (p50/p95) and queries per request of
   ``GET /queue/`` (URL ``sdr:queue``) through Django's test ``Client``, in process: one
   client, like one server process, each request carrying the session of one of the 200
   SDRs; then the longest page (a queue longer than the page's ``QUEUE_PAGE`` rows) for a few of them. Should
   the page be missing or fail, the measurement falls back to what it renders:
   ``sdr.queue.queue_for(rep)`` evaluated and rendered with a small template; the figures
   say which one was measured. Baseline: the queue's two SQL statements (the items, then
   their leads), exactly as the ORM compiles them, run through a cursor.
2. The breach sweep, ``work.services.sweep_breaches(now=T)``, over 10,000 open first-touch
   timers of which exactly 100 (1%) are past due at ``T``: mark, insert the breaches, email
   the managers (locmem backend), reassign (nothing is due for reassignment). State is put
   back between runs, untimed. Also at an instant when nothing is due: the cost of the
   sweep every minute when idle. Baseline: one ``UPDATE ... RETURNING`` feeding an
   ``INSERT`` of the same breaches.
3. Routing throughput: fresh MQLs (status mql, no owner, no team) routed by
   ``sdr.services.route_leads`` in batches of 200 (what capture hands it) and by the routing
   sweep ``route_waiting_leads`` (batches of 500). Baseline: per batch, one statement that
   picks the team by the same territory rules, deals owners round-robin with a window
   function, updates the leads and inserts their events and first-touch work items.

The data set is generated in SQL (``INSERT ... SELECT FROM generate_series``): a million
leads, 8 inbound teams of 25 SDRs with business calendars (Mon-Fri 9-17) in 8 time zones and
territory rules; each rep holds 50 MQLs with an open first-touch timer and 150 working leads
(2,000 of them with an open follow-up), and 800 closed ones; done first-touch items for
every worked lead (a fifth of them late, with their breach rows), touches and web activity.
"""

import random
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter_ns as time_ns

from django.utils import timezone

from .env import connect, create_team
from .plans import abridge
from .timing import PageTimes, StatementTimer, Timer, percentile, statement_kinds, time_requests

REPS_PER_TEAM = 25
OPEN_TIMERS = 10_000  # open first-touch items, 50 per rep
DUE = 100  # open timers past due at the sweep instant: 1%, one each for 100 of the reps
FOLLOW_UPS_PER_REP = 10  # open follow-ups (untimed) on working leads
REP_CAPACITY = 400  # each rep holds 200 open leads; routing adds at most 100 more
ROUTING_BATCH = 200  # what one capture hands route_leads (the figure)
SWEEP_REPEATS = 5
QUEUE_WARMUP = 20
QUERY_COUNT_SAMPLE = 20
FULL_QUEUE_REPS = 10  # reps given a full queue (a follow-up on each working lead)
FULL_QUEUE_REQUESTS = 100
FULL_QUEUE_MARKER = "Follow up: bench full queue"

# (team, calendar zone, territory rules: (position, countries, industries, min, max))
TEAMS = [
    ("Inbound DACH", "Europe/Berlin", [(10, ["DE", "AT", "CH"], [], None, None)]),
    ("Inbound UK & Ireland", "Europe/London", [(20, ["GB", "IE"], [], None, None)]),
    (
        "Inbound US Enterprise",
        "America/New_York",
        [
            (30, ["US"], [], 1000, None),
            (31, ["US"], ["Financial Services", "Healthcare"], None, None),
        ],
    ),
    ("Inbound US Commercial", "America/Chicago", [(40, ["US"], [], None, None)]),
    ("Inbound Americas", "America/Sao_Paulo", [(50, ["CA", "BR", "MX"], [], None, None)]),
    ("Inbound Southern Europe", "Europe/Madrid", [(60, ["FR", "ES", "IT", "PT"], [], None, None)]),
    ("Inbound APAC", "Asia/Singapore", [(70, ["JP", "AU", "SG", "IN"], [], None, None)]),
    ("Inbound Rest of World", "UTC", [(1000, [], [], None, None)]),  # the catch-all
]
COUNTRIES = [
    "US",
    "US",
    "US",
    "DE",
    "GB",
    "FR",
    "CA",
    "JP",
    "AT",
    "CH",
    "ES",
    "IE",
    "AU",
    "NL",
    "BR",
    "IN",
    "SG",
    "IT",
    "SE",
    "",
]
INDUSTRIES = ["Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Media", ""]


# Open lead ``i`` (``i % stride == stride - 1``) is open timer number ``seq = i / stride``
# (0 to 9,999), owned by rep ``seq % 200``, its ``seq / 200``-th (0 to 49). Exactly 100 are due
# at the sweep instant, one each for reps 0 to 99 (every team), within the 50 minutes before
# it; the others fall due over the next three days. 5 of each rep's 50 are hand-raisers.
def _open_timer_sql(lead_id: str) -> dict[str, str]:
    seq = f"({lead_id} / %(stride)s)"
    rep, nth = f"({seq} %% %(reps_n)s)", f"({seq} / %(reps_n)s)"
    return {
        "due": f"""CASE WHEN {rep} < %(due)s AND {nth} = {rep} %% %(open_per_rep)s
            THEN %(now)s::timestamptz - (1 + {rep}) * interval '30 seconds'
            ELSE %(now)s::timestamptz + (1 + ({seq} * 7919) %% 259200) * interval '1 second' END""",
        "hand_raiser": f"{nth} %% 10 = 3",
    }


LEADS_SQL = """
WITH g AS (
    SELECT i, i %% %(stride)s AS slot, i / %(stride)s AS seq, (i * 7919) %% 1000 AS spread
    FROM generate_series(1, %(n)s::bigint) AS i
), k AS (
    SELECT g.*,
        CASE
            WHEN slot = %(stride)s - 1 THEN 'open'
            WHEN slot <= 2 THEN 'working'
            WHEN slot < %(closed_until)s
                THEN (ARRAY['handed_off', 'won', 'lost', 'disqualified', 'lost'])[1 + seq %% 5]
            WHEN spread < 30 THEN 'recycled'
            ELSE 'nurture'
        END AS kind,
        1 + seq %% cardinality(%(reps)s::bigint[]) AS rep,
        %(now)s::timestamptz - (1 + i %% 730) * interval '1 day' - (i %% 86400) * interval '1 second'
            AS captured,
        -- an open timer's due time (see _open_timer_sql)
        {due} AS due,
        (i * 13) %% 101 AS fit
    FROM g
)
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT
    i,
    'q' || i || '@company' || (i %% 20000) || '.example',
    (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Donald'])[1 + i %% 8],
    'Lead' || i,
    'Company ' || (i %% 20000),
    (ARRAY['VP Sales', 'CTO', 'Marketing Manager', 'Software Engineer', 'Director of IT', 'CEO'])[1 + i %% 6],
    (ARRAY['vp', 'c_level', 'manager', 'individual', 'director', 'c_level'])[1 + i %% 6],
    (%(industries)s::text[])[1 + (i * 17) %% cardinality(%(industries)s::text[])],
    CASE WHEN i %% 5 = 0 THEN NULL ELSE 1 + (i * 31) %% 10000 END,
    CASE WHEN i %% 4 = 0 THEN NULL ELSE ((i * 17) %% 1000) * 100000 END,
    (%(countries)s::text[])[1 + (i * 31) %% cardinality(%(countries)s::text[])],
    '+1-555-' || lpad((i %% 10000)::text, 4, '0'),
    'web',
    CASE kind WHEN 'open' THEN 'mql' ELSE kind END,
    '',
    kind = 'open' AND {hand_raiser},
    (ARRAY['', '', '', 'A', 'B', 'C'])[1 + i %% 6],
    fit,
    CASE WHEN fit >= 75 THEN 'A' WHEN fit >= 50 THEN 'B' WHEN fit >= 25 THEN 'C' ELSE 'D' END,
    CASE
        WHEN kind IN ('nurture', 'recycled') AND spread < 400 THEN %(no_engagement)s
        WHEN kind IN ('nurture', 'recycled') THEN ln(1 + spread %% 30) / ln(2) + %(half_lives)s
        ELSE ln(15 + spread %% 200) / ln(2) + %(half_lives)s
    END,
    '', '', NULL,
    CASE WHEN kind = 'open' THEN LEAST(captured, due - interval '5 hours') ELSE captured END,
    CASE
        -- the open timer started when the lead became an MQL (before the sweep instant)
        WHEN kind = 'open' THEN LEAST(due - CASE WHEN {hand_raiser} THEN interval '15 minutes'
                                                  ELSE interval '4 hours' END,
                                      %(now)s::timestamptz - (seq %% 3600) * interval '1 second')
        WHEN kind IN ('working', 'handed_off', 'won', 'lost', 'disqualified') THEN captured + interval '12 hours'
    END,
    captured,
    %(now)s::timestamptz,
    CASE WHEN i %% 3 = 0 THEN NULL
        ELSE (%(campaigns)s::bigint[])[1 + i %% cardinality(%(campaigns)s::bigint[])] END,
    CASE WHEN kind NOT IN ('nurture', 'recycled') THEN (%(reps)s::bigint[])[rep] END,
    CASE WHEN kind NOT IN ('nurture', 'recycled') THEN (%(rep_teams)s::bigint[])[rep] END
FROM k
""".format(**_open_timer_sql("i"))

OPEN_ITEMS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'first_touch', 'open', l.owner_id, l.team_id, %(ct)s, l.id,
       CASE WHEN l.hand_raiser THEN 'Asked for a call' ELSE 'New MQL' END, '',
       CASE WHEN l.hand_raiser THEN %(hand_raiser_policy)s ELSE %(mql_policy)s END,
       l.mql_at,
       {due},
       NULL, NULL, NULL, NULL
FROM leads_lead l WHERE l.status = 'mql' AND l.owner_id IS NOT NULL
""".format(**_open_timer_sql("l.id"))

# Every worked lead had a first-touch item, done: a fifth of them late (breached on time by
# the sweep, with a breach row that was escalated).
DONE_ITEMS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'first_touch', 'done', l.owner_id, l.team_id, %(ct)s, l.id, 'New MQL', '', %(mql_policy)s,
       l.mql_at, l.mql_at + interval '4 hours',
       CASE WHEN (l.id * 13) %% 300 > 240 THEN l.mql_at + interval '4 hours 1 minute' END,
       NULL, l.mql_at + ((l.id * 13) %% 300) * interval '1 minute', l.owner_id
FROM leads_lead l
WHERE l.owner_id IS NOT NULL AND l.status <> 'mql'
"""

FOLLOW_UPS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'follow_up', 'open', l.owner_id, l.team_id, %(ct)s, l.id, 'Follow up: send the case study', '',
       NULL, %(now)s::timestamptz - interval '2 days',
       %(now)s::timestamptz + (((l.id / %(stride)s) * 13) %% 345600 - 86400) * interval '1 second',
       NULL, NULL, NULL, NULL
FROM leads_lead l
WHERE l.status = 'working' AND l.id %% %(stride)s = 0
  AND (l.id / %(stride)s / %(reps_n)s) %% (%(open_per_rep)s / %(follow_ups_per_rep)s) = 0
"""

# A follow-up on every working lead of these reps that has none open: 150 more items each.
FULL_QUEUE_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'follow_up', 'open', l.owner_id, l.team_id, %(ct)s, l.id, %(marker)s, '', NULL,
       now() - interval '1 day', now() + (l.id %% 172800 - 43200) * interval '1 second',
       NULL, NULL, NULL, NULL
FROM leads_lead l
WHERE l.owner_id = ANY(%(reps)s::bigint[]) AND l.status = 'working'
  AND NOT EXISTS (SELECT 1 FROM work_workitem f WHERE f.content_type_id = %(ct)s AND f.object_id = l.id
                  AND f.kind = 'follow_up' AND f.state = 'open')
"""

HISTORY_BREACHES_SQL = """
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, note)
SELECT id, policy_id, owner_id, team_id, due_at, breached_at, 'sent', breached_at, ''
FROM work_workitem WHERE breached_at IS NOT NULL
"""

# Web activity before the MQL, touches on worked leads, a visit on a quarter of nurture leads.
ACTIVITIES_SQL = """
INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome, actor_id, campaign_id)
SELECT l.id,
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql')
            THEN (ARRAY['visit', 'form_fill', 'download'])[1 + (l.id + j) %% 3]
            ELSE (ARRAY['call', 'email', 'voicemail'])[1 + (l.id + j) %% 3] END,
       COALESCE(l.mql_at, l.captured_at) + (j - 2) * interval '5 hours',
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql') THEN 5 ELSE 0 END,
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql') THEN 'web_form' ELSE 'manual' END,
       '', '',
       CASE WHEN l.status NOT IN ('nurture', 'recycled', 'mql') THEN l.owner_id END,
       l.campaign_id
FROM leads_lead l,
     generate_series(1, CASE WHEN l.status IN ('nurture', 'recycled') THEN (l.id %% 4 = 0)::int
                             WHEN l.status = 'working' THEN 4 ELSE 2 END) AS j
"""

EVENTS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT id, 'routed', mql_at, '', '', '', 'Routed by rule', NULL, NULL
FROM leads_lead WHERE owner_id IS NOT NULL
"""

FRESH_LEADS_SQL = """
INSERT INTO leads_lead (
    email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT
    'fresh' || i || '@newco' || (i %% 5000) || '.example', 'Fresh', 'Lead' || i, 'Newco ' || (i %% 5000),
    'VP Sales', 'vp',
    (%(industries)s::text[])[1 + (i * 17) %% cardinality(%(industries)s::text[])],
    CASE WHEN i %% 5 = 0 THEN NULL ELSE 1 + (i * 31) %% 10000 END,
    NULL,
    (%(countries)s::text[])[1 + (i * 7) %% cardinality(%(countries)s::text[])],
    '', 'web', 'mql', '', i %% 10 = 3, '', 60, 'B', %(key)s, '', '', NULL,
    %(now)s::timestamptz - i * interval '1 second', %(now)s::timestamptz - i * interval '1 second',
    %(now)s::timestamptz, %(now)s::timestamptz,
    (%(campaigns)s::bigint[])[1 + i %% cardinality(%(campaigns)s::bigint[])], NULL, NULL
FROM generate_series(1, %(n)s) AS i
"""

# --- baselines -----------------------------------------------------------------------------

SWEEP_BASELINE_SQL = """
WITH marked AS (
    UPDATE work_workitem SET breached_at = %(now)s
    WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL AND due_at <= %(now)s
    RETURNING id, policy_id, owner_id, team_id, due_at
)
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, note)
SELECT id, policy_id, owner_id, team_id, due_at, %(now)s, 'sent', %(now)s, '' FROM marked
"""

# Territory (the same rules, first match by position), round-robin by a window function
# (continuing from an offset, as the stored position would), the leads updated, a routed
# event and an open first-touch item each (due 4 h / 15 min on the wall clock: no calendars).
ROUTING_BASELINE_SQL = """
WITH batch AS (
    SELECT l.id, l.hand_raiser,
           (SELECT r.team_id FROM sdr_territoryrule r
            WHERE r.is_active
              AND (r.countries = '[]'::jsonb OR r.countries ? upper(l.country))
              AND (r.industries = '[]'::jsonb OR EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(r.industries) AS x(v)
                    WHERE lower(x.v) = lower(l.industry)))
              AND (r.min_employees IS NULL OR l.employees >= r.min_employees)
              AND (r.max_employees IS NULL OR l.employees <= r.max_employees)
            ORDER BY r.position, r.id LIMIT 1) AS team_id
    FROM leads_lead l
    WHERE l.id = ANY(%(ids)s::bigint[]) AND l.status = 'mql' AND l.owner_id IS NULL
    FOR UPDATE OF l
), numbered AS (
    SELECT b.*, row_number() OVER (PARTITION BY b.team_id ORDER BY b.hand_raiser DESC, b.id) - 1 AS n
    FROM batch b WHERE b.team_id IS NOT NULL
), reps AS (
    SELECT u.id, u.team_id, row_number() OVER (PARTITION BY u.team_id ORDER BY u.id) - 1 AS k,
           count(*) OVER (PARTITION BY u.team_id) AS size
    FROM team_user u
    WHERE u.team_id IN (SELECT team_id FROM numbered) AND u.role IN ('inbound_sdr', 'outbound_sdr')
      AND u.is_active AND NOT u.is_away
), assigned AS (
    UPDATE leads_lead l SET owner_id = r.id, team_id = n.team_id, updated_at = %(now)s
    FROM numbered n JOIN reps r ON r.team_id = n.team_id AND r.k = (n.n + %(offset)s) %% r.size
    WHERE l.id = n.id
    RETURNING l.id, l.owner_id, l.team_id, l.hand_raiser
), events AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
    SELECT id, 'routed', %(now)s, '', '', '', 'Routed by rule', NULL, NULL FROM assigned
)
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at)
SELECT 'first_touch', 'open', a.owner_id, a.team_id, %(ct)s, a.id,
       CASE WHEN a.hand_raiser THEN 'Asked for a call' ELSE 'New MQL' END, '',
       CASE WHEN a.hand_raiser THEN %(hand_raiser_policy)s ELSE %(mql_policy)s END, %(now)s,
       %(now)s + CASE WHEN a.hand_raiser THEN interval '15 minutes' ELSE interval '4 hours' END
FROM assigned a
"""

# --- results -------------------------------------------------------------------------------


@dataclass
class DataSet:
    leads: int
    reps: list[int]
    teams: list[int]
    sweep_at: datetime
    lead_ct: int
    policies: dict[str, int]
    campaigns: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0


@dataclass
class QueuePage(PageTimes):
    measured: str  # what was timed: the real URL or the fallback
    requests: int
    reps: int
    ms: list[float]
    queries: list[int]  # per request, on a sample
    queue_queries: list[int]  # of which on work items / leads / activities
    statements: list[str]  # the statements of one request, abridged
    items_per_page: float
    orm_ms: list[float]  # queue_for() evaluated, no template, no middleware
    sql_ms: list[float]  # baseline: the same two statements through a cursor
    full_items: int  # the longest page: reps with a queue longer than the page
    full_ms: list[float]
    full_sql_ms: list[float]

    @property
    def full_p95_ms(self) -> float:
        return percentile(self.full_ms, 95)

    @property
    def full_sql_p95_ms(self) -> float:
        return percentile(self.full_sql_ms, 95)


@dataclass
class SweepCase:
    due: int
    open_timers: int
    seconds: list[float]
    baseline_seconds: list[float]
    breached: int
    escalated: int
    reassigned: int
    statements: list[tuple[str, float]]  # (statement, ms) of one traced run

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def baseline_median_ms(self) -> float:
        return statistics.median(self.baseline_seconds) * 1000

    @property
    def ratio(self) -> float:
        return self.median_ms / max(self.baseline_median_ms, 1e-6)


@dataclass
class RoutingRun:
    mode: str
    batch: int
    leads: int
    seconds: float
    assigned: int
    unassigned: int
    unmatched: int
    baseline_seconds: float
    baseline_assigned: int
    queries_per_batch: int = 0
    statement_kinds: dict[str, list] = field(default_factory=dict)  # kind -> [count, ms]
    traced_batch_ms: float = 0.0

    @property
    def leads_per_second(self) -> float:
        return self.leads / self.seconds

    @property
    def baseline_leads_per_second(self) -> float:
        return self.leads / self.baseline_seconds

    @property
    def ratio(self) -> float:
        return self.leads_per_second / self.baseline_leads_per_second


@dataclass
class QueuesFigures:
    data: DataSet
    page: QueuePage
    sweep_due: SweepCase
    sweep_idle: SweepCase
    routing: list[RoutingRun]
    plans: dict[str, str]


# --- data ----------------------------------------------------------------------------------


def create_people() -> tuple[list[int], list[int], list[int]]:
    """8 business calendars (Mon-Fri 9-17 in 8 zones, with holidays), 8 inbound teams with a
    manager each, 25 SDRs per team, and the territory rules. Returns (reps, rep teams, teams)."""
    from sdr.models import TerritoryRule
    from team.models import Role, Team

    teams, reps = [], []
    for t, (name, zone, rules) in enumerate(TEAMS):
        team, members = create_team(
            t, name, zone, kind=Team.Kind.INBOUND, role=Role.INBOUND_SDR, size=REPS_PER_TEAM, tag="q",
            member_tag="sdr", word="Rep", manager_email=f"manager{t}@refinery.example", manager_joins=False,
            capacity=REP_CAPACITY,
        )  # fmt: skip
        for position, countries, industries, low, high in rules:
            TerritoryRule.objects.create(
                name=f"{name} {position}",
                position=position,
                team=team,
                countries=countries,
                industries=industries,
                min_employees=low,
                max_employees=high,
            )
        teams.append(team.pk)
        reps += [u.pk for u in members]
    # Rep k of the generated leads is reps[k]; interleave the teams so that consecutive
    # leads go to different teams, as routing spreads them.
    reps_by_team = [reps[t * REPS_PER_TEAM : (t + 1) * REPS_PER_TEAM] for t in range(len(TEAMS))]
    ordered = [reps_by_team[t][n] for n in range(REPS_PER_TEAM) for t in range(len(TEAMS))]
    rep_teams = [teams[t] for n in range(REPS_PER_TEAM) for t in range(len(TEAMS))]
    return ordered, rep_teams, teams


def generate(n: int, *, campaigns: list[int]) -> DataSet:
    """Generate the data set with ``n`` leads (``n`` a multiple of 10,000 of at least 100,000:
    one lead in ``n / 10,000`` is an MQL with an open timer, see ``_open_timer_sql``)."""
    from django.contrib.contenttypes.models import ContentType

    from leads.models import NO_ENGAGEMENT, Lead, ScoringSettings
    from leads.scoring import threshold_key
    from sdr.services import first_touch_policies
    from work.models import SlaPolicy

    from .csv_import import LEAD_TABLES

    stride = n // OPEN_TIMERS
    if stride < 10 or n % OPEN_TIMERS:
        raise ValueError("the queues data set needs a multiple of 10,000 leads, at least 100,000")
    now = timezone.now().replace(microsecond=0)
    reps, rep_teams, teams = create_people()
    policies = {key: p.pk for key, p in first_touch_policies().items()}
    data = DataSet(
        leads=n,
        reps=reps,
        teams=teams,
        sweep_at=now,
        lead_ct=ContentType.objects.get_for_model(Lead).pk,
        policies=policies,
        campaigns=campaigns,
    )
    params = {
        "n": n,
        "stride": stride,
        "closed_until": 3 + stride * 16 // 100,
        "reps_n": len(reps),
        "open_per_rep": OPEN_TIMERS // len(reps),
        "due": DUE,
        "follow_ups_per_rep": FOLLOW_UPS_PER_REP,
        "now": now,
        "reps": reps,
        "rep_teams": rep_teams,
        "campaigns": campaigns,
        "countries": COUNTRIES,
        "industries": INDUSTRIES,
        "no_engagement": NO_ENGAGEMENT,
        "half_lives": threshold_key(1.0, now, ScoringSettings.load().half_life_days),
        "ct": data.lead_ct,
        "mql_policy": policies[SlaPolicy.FIRST_TOUCH_MQL],
        "hand_raiser_policy": policies[SlaPolicy.FIRST_TOUCH_HAND_RAISER],
    }
    with connect() as conn, Timer() as timer:
        conn.execute(f"TRUNCATE {LEAD_TABLES}, work_breach, work_workitem RESTART IDENTITY CASCADE")
        conn.execute("SET maintenance_work_mem = '512MB'")
        # History first, open items last: open items are the newest rows (highest ids), as in
        # production, which matters to plans that walk the primary key.
        for statement in (
            LEADS_SQL,
            DONE_ITEMS_SQL,
            HISTORY_BREACHES_SQL,
            FOLLOW_UPS_SQL,
            OPEN_ITEMS_SQL,
            ACTIVITIES_SQL,
            EVENTS_SQL,
        ):
            conn.execute(statement, params)
        conn.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [n])
        for table in (
            "leads_lead",
            "work_workitem",
            "work_breach",
            "leads_activity",
            "leads_leadevent",
            "team_user",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")
        # Write the generated pages out now, not while the figures are measured.
        conn.execute("CHECKPOINT")
    data.generate_seconds = timer.seconds
    data.counts = count_data(data)
    expected = {
        "open_timers": OPEN_TIMERS,
        "due_at_sweep": DUE,
        "open_follow_ups": FOLLOW_UPS_PER_REP * len(reps),
    }
    if {k: data.counts[k] for k in expected} != expected:
        raise RuntimeError(f"generated {data.counts}, expected {expected}")
    return data


def count_data(data: DataSet) -> dict[str, int]:
    with connect() as conn:

        def one(sql: str, *params) -> int:
            return conn.execute(sql, params).fetchone()[0]

        return {
            "leads": one("SELECT count(*) FROM leads_lead"),
            "open_timers": one(
                "SELECT count(*) FROM work_workitem"
                " WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL"
            ),
            "due_at_sweep": one(
                "SELECT count(*) FROM work_workitem WHERE state = 'open' AND breached_at IS NULL"
                " AND policy_id IS NOT NULL AND due_at <= %s",
                data.sweep_at,
            ),
            "open_follow_ups": one(
                "SELECT count(*) FROM work_workitem WHERE state = 'open' AND kind = 'follow_up'"
            ),
            "work_items": one("SELECT count(*) FROM work_workitem"),
            "breaches": one("SELECT count(*) FROM work_breach"),
            "activities": one("SELECT count(*) FROM leads_activity"),
            "events": one("SELECT count(*) FROM leads_leadevent"),
            "in_sales_owned": one(
                "SELECT count(*) FROM leads_lead WHERE owner_id IS NOT NULL AND status IN ('mql', 'working')"
            ),
        }


# --- 1. the queue page ---------------------------------------------------------------------

FALLBACK_TEMPLATE = """<table>{% for item in items %}
<tr><td>{{ item.subject.name }}</td><td>{{ item.subject.company }}</td>
<td>{{ item.lead_fit_grade }}</td><td>{{ item.title }}</td><td>{{ item.policy.name|default:"" }}</td>
<td>{{ item.due_at|date:"D d M H:i" }}</td><td>{{ item.last_touch_kind|default:"" }}
{{ item.last_touch_at|date:"D d M H:i" }}</td><td>{{ item.subject.campaign.name|default:"" }}</td></tr>
{% endfor %}</table>"""

QUEUE_TABLES = ("work_workitem", "leads_lead", "leads_activity", "leads_campaign", "work_slapolicy")


def queue_url() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("sdr:queue")
    except NoReverseMatch:
        return None


def _is_queue_query(sql: str) -> bool:
    head = sql.split(" FROM ", 1)[-1][:200]
    return any(f'"{table}"' in head for table in QUEUE_TABLES)


def measure_queue_page(data: DataSet, requests: int, log=print) -> QueuePage:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.template import engines
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sdr.queue import queue_for
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=data.reps)}
    reps = [users[pk] for pk in data.reps]
    rng = random.Random(3)
    order = [reps[n % len(reps)] for n in range(requests)]
    rng.shuffle(order)
    url = queue_url()

    # As at a deployment: the pages' {% static %} tags need the manifest (DEBUG is off).
    call_command("collectstatic", interactive=False, verbosity=0)
    template = engines["django"].from_string(FALLBACK_TEMPLATE)

    def render_queue(rep) -> int:
        items = list(queue_for(rep)[:PAGE_ROWS])
        return len(template.render({"items": items}))

    one, measured = (
        render_queue,
        "sdr.queue.queue_for(rep)[:QUEUE_PAGE] evaluated and rendered with a bench template",
    )
    if url is None:
        measured += " (fallback: no URL named sdr:queue yet)"
    else:
        # One client, like one server process (a Client loads the middleware on its first
        # request, WhiteNoise scanning the static files: once per process in production), each
        # request carrying the session cookie of the rep it is for.
        sessions = {}
        for rep in reps:
            login = Client()
            login.force_login(rep)
            sessions[rep.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
        client = Client(HTTP_HOST="127.0.0.1")

        def get_page(rep) -> int:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[rep.pk]
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code} for {rep}")
            return len(response.content)

        def probe(rep) -> None:
            first = queue_for(rep).first()
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[rep.pk]
            body = client.get(url).content.decode()
            if first is None or first.subject.last_name not in body:
                raise RuntimeError(f"{url} does not show {rep}'s first item")

        try:
            get_page(reps[0])
            probe(reps[1])
        except Exception as exc:  # the page is being built: measure what it will render
            reason = f"{type(exc).__name__}: {exc}"
            log(f"queues: WARNING: GET {url} failed ({reason}); measuring the fallback")
            measured += f" (fallback: GET {url} failed with {reason[:200]})"
        else:
            one, measured = (
                get_page,
                f"GET {url} (URL sdr:queue) through the test Client in process, logged in",
            )

    log(f"queues: page: {measured}")
    for rep in reps[:QUEUE_WARMUP]:
        one(rep)
    ms = time_requests(one, order)

    queries, queue_queries, statements = [], [], []
    for rep in reps[:QUERY_COUNT_SAMPLE]:
        with CaptureQueriesContext(connection) as captured:
            one(rep)
        queries.append(len(captured))
        queue_queries.append(sum(1 for q in captured if _is_queue_query(q["sql"])))
        if not statements:
            statements = [abridge(q["sql"]) for q in captured]
    orm_ms, sql_ms, sizes = _orm_and_sql(reps, order)

    # The longest page: a rep whose queue is longer than the page shows (a follow-up on
    # every working lead), for a few reps, put back afterwards.
    full_reps = reps[:FULL_QUEUE_REPS]
    with connect() as conn:
        conn.execute(
            FULL_QUEUE_SQL,
            {"reps": [r.pk for r in full_reps], "marker": FULL_QUEUE_MARKER, "ct": data.lead_ct},
        )
        conn.execute("VACUUM ANALYZE work_workitem")
    full_order = [full_reps[n % len(full_reps)] for n in range(FULL_QUEUE_REQUESTS)]
    for rep in full_reps:
        one(rep)
    full_ms = time_requests(one, full_order)
    _, full_sql_ms, full_sizes = _orm_and_sql(full_reps, full_order)
    with connect() as conn:
        conn.execute("DELETE FROM work_workitem WHERE title = %s", [FULL_QUEUE_MARKER])
        conn.execute("VACUUM ANALYZE work_workitem")
    return QueuePage(
        measured=measured,
        requests=len(ms),
        reps=len({r.pk for r in order}),
        ms=ms,
        queries=queries,
        queue_queries=queue_queries,
        statements=statements,
        items_per_page=statistics.mean(sizes),
        orm_ms=orm_ms,
        sql_ms=sql_ms,
        full_items=min(full_sizes),
        full_ms=full_ms,
        full_sql_ms=full_sql_ms,
    )


def _orm_and_sql(reps, order) -> tuple[list[float], list[float], list[int]]:
    """``queue_for()`` evaluated alone per rep (ms), then the baseline: the two statements it
    sends (the items, then their leads), exactly as compiled, through a cursor, in ``order``
    (ms); and the queue sizes."""
    from django.db import connection

    from leads.models import Lead
    from sdr.queue import queue_for
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows

    orm_ms, sql_ms, sizes, compiled = [], [], [], {}
    for rep in reps:
        start = time_ns()
        items = list(queue_for(rep)[:PAGE_ROWS])
        orm_ms.append((time_ns() - start) / 1e6)
        sizes.append(len(items))
        item_sql = queue_for(rep)[:PAGE_ROWS].query.sql_with_params()
        lead_sql = (
            Lead.objects.select_related("campaign")
            .filter(pk__in=[i.object_id for i in items])
            .query.sql_with_params()
        )
        compiled[rep.pk] = (item_sql, lead_sql)
    with connection.cursor() as cursor:
        for rep in reps[:QUEUE_WARMUP]:
            for sql, params in compiled[rep.pk]:
                cursor.execute(sql, params)
                cursor.fetchall()
        for rep in order:
            start = time_ns()
            for sql, params in compiled[rep.pk]:
                cursor.execute(sql, params)
                cursor.fetchall()
            sql_ms.append((time_ns() - start) / 1e6)
    return orm_ms, sql_ms, sizes


# --- 2. the breach sweep -------------------------------------------------------------------


def _reset_sweep(data: DataSet) -> None:
    with connect() as conn:
        conn.execute("DELETE FROM work_breach WHERE detected_at = %s", [data.sweep_at])
        conn.execute("UPDATE work_workitem SET breached_at = NULL WHERE breached_at = %s", [data.sweep_at])
        conn.execute("VACUUM ANALYZE work_workitem")
        conn.execute("VACUUM ANALYZE work_breach")


def _sweep_case(data: DataSet, at: datetime, expected: int) -> SweepCase:
    from django.core import mail
    from django.test.utils import override_settings

    from work.services import sweep_breaches

    seconds, baseline, result = [], [], None
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for _ in range(SWEEP_REPEATS):
            _reset_sweep(data)
            mail.outbox = []
            with Timer() as timer:
                result = sweep_breaches(now=at)
            seconds.append(timer.seconds)
            if result.breached != expected or result.escalated != expected or len(mail.outbox) != expected:
                raise RuntimeError(
                    f"the sweep at {at} did {result}, {len(mail.outbox)} mails; expected {expected}"
                )
        # One more, traced: each statement and the time its execute() took (a round trip).
        _reset_sweep(data)
        with StatementTimer() as timed:
            sweep_breaches(now=at)
        statements = [(abridge(sql, 90), ms) for sql, ms in timed.timed]
    with connect() as conn:
        for _ in range(SWEEP_REPEATS):
            _reset_sweep(data)
            with Timer() as timer:
                rows = conn.execute(SWEEP_BASELINE_SQL, {"now": at}).rowcount
            baseline.append(timer.seconds)
            if rows != expected:
                raise RuntimeError(f"the baseline marked {rows} timers, expected {expected}")
    _reset_sweep(data)
    return SweepCase(
        due=expected,
        open_timers=data.counts["open_timers"],
        seconds=seconds,
        baseline_seconds=baseline,
        breached=result.breached,
        escalated=result.escalated,
        reassigned=result.reassigned,
        statements=statements,
    )


def measure_sweeps(data: DataSet) -> tuple[SweepCase, SweepCase]:
    """The sweep at the instant when 1% of the open timers are due, then two hours earlier,
    when none is (the idle minute)."""
    due = _sweep_case(data, data.sweep_at, data.counts["due_at_sweep"])
    idle = _sweep_case(data, data.sweep_at - timedelta(hours=2), 0)
    return due, idle


# --- 3. routing ----------------------------------------------------------------------------


def _reset_routing(data: DataSet) -> None:
    with connect() as conn:
        conn.execute(
            "DELETE FROM work_workitem WHERE content_type_id = %s AND object_id > %s",
            [data.lead_ct, data.leads],
        )
        conn.execute("DELETE FROM leads_leadevent WHERE lead_id > %s", [data.leads])
        conn.execute(
            "UPDATE leads_lead SET owner_id = NULL, team_id = NULL WHERE id > %s AND owner_id IS NOT NULL",
            [data.leads],
        )
        conn.execute("UPDATE sdr_roundrobin SET last_user_id = NULL")
        for table in ("leads_lead", "work_workitem", "leads_leadevent"):
            conn.execute(f"VACUUM ANALYZE {table}")


def create_fresh_leads(data: DataSet, n: int) -> list[int]:
    from leads.models import ScoringSettings
    from leads.scoring import engagement_key

    now = timezone.now()
    with connect() as conn:
        conn.execute(
            FRESH_LEADS_SQL,
            {
                "n": n,
                "now": now,
                "countries": COUNTRIES,
                "industries": INDUSTRIES,
                "campaigns": data.campaigns,
                "key": engagement_key(45.0, now, ScoringSettings.load().half_life_days),
            },
        )
        conn.execute("VACUUM ANALYZE leads_lead")
        ids = [
            row[0]
            for row in conn.execute("SELECT id FROM leads_lead WHERE id > %s ORDER BY id", [data.leads])
        ]
    if len(ids) != n:
        raise RuntimeError(f"{len(ids)} fresh leads, expected {n}")
    return ids


def _routing_baseline(data: DataSet, batches: list[list[int]]) -> tuple[float, int]:
    from work.models import SlaPolicy

    assigned = 0
    with connect() as conn, Timer() as timer:
        for n, batch in enumerate(batches):
            assigned += conn.execute(
                ROUTING_BASELINE_SQL,
                {
                    "ids": batch,
                    "now": timezone.now(),
                    "offset": n * len(batch),
                    "ct": data.lead_ct,
                    "mql_policy": data.policies[SlaPolicy.FIRST_TOUCH_MQL],
                    "hand_raiser_policy": data.policies[SlaPolicy.FIRST_TOUCH_HAND_RAISER],
                },
            ).rowcount
    return timer.seconds, assigned


def measure_routing(data: DataSet, n: int, log=print) -> list[RoutingRun]:

    from sdr.services import ROUTING_SWEEP_BATCH, route_leads, route_waiting_leads

    ids = create_fresh_leads(data, n)
    runs = []
    for mode, batch in (
        (f"route_leads, batches of {ROUTING_BATCH} (capture path)", ROUTING_BATCH),
        (f"route_waiting_leads (routing sweep, batches of {ROUTING_SWEEP_BATCH})", ROUTING_SWEEP_BATCH),
    ):
        batches = [ids[k : k + batch] for k in range(0, len(ids), batch)]
        # One batch traced (statements by kind, with their execute() time), put back.
        _reset_routing(data)
        with StatementTimer() as traced, Timer() as traced_batch:
            route_leads(lead_ids=batches[0])
        kinds = statement_kinds(traced.statements)
        _reset_routing(data)
        log(f"queues: routing {n:,} leads: {mode}")
        with Timer() as timer:
            if batch == ROUTING_BATCH:
                assigned, unassigned, unmatched = {}, [], []
                for chunk in batches:
                    r = route_leads(lead_ids=chunk)
                    assigned.update(r.assigned)
                    unassigned += r.unassigned
                    unmatched += r.unmatched
            else:
                r = route_waiting_leads(limit=n)
                assigned, unassigned, unmatched = r.assigned, r.unassigned, r.unmatched
        if len(assigned) != n:
            raise RuntimeError(
                f"routing assigned {len(assigned)} of {n} ({len(unassigned)} unassigned, {len(unmatched)} unmatched)"
            )
        _reset_routing(data)
        baseline_seconds, baseline_assigned = _routing_baseline(data, batches)
        if baseline_assigned != n:
            raise RuntimeError(f"the routing baseline assigned {baseline_assigned} of {n}")
        _reset_routing(data)
        runs.append(
            RoutingRun(
                mode=mode,
                batch=batch,
                leads=n,
                seconds=timer.seconds,
                assigned=len(assigned),
                unassigned=len(unassigned),
                unmatched=len(unmatched),
                baseline_seconds=baseline_seconds,
                baseline_assigned=baseline_assigned,
                queries_per_batch=len(traced.statements),
                statement_kinds=kinds,
                traced_batch_ms=traced_batch.seconds * 1000,
            )
        )
        log(
            f"queues: {runs[-1].leads_per_second:,.0f} leads/s ({timer.seconds:.1f} s), {len(traced.statements)} queries"
            f" per batch of {batch}; baseline {runs[-1].baseline_leads_per_second:,.0f} leads/s"
        )
    return runs


# --- plans ---------------------------------------------------------------------------------


def plans(data: DataSet) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the sweep's claim (the whole marking statement, in a
    transaction rolled back), one rep's queue query, and routing's rep-load query."""
    from django.db import connection, transaction
    from django.db.models import Count, Q

    from leads.services import IN_SALES
    from sdr.queue import queue_for
    from sdr.services import SDR_ROLES
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows
    from team.models import User
    from work.services import _MARK_SQL, SWEEP_BATCH

    out = {}
    with connection.cursor() as cursor:

        def explain(sql: str, params) -> str:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

        with transaction.atomic():
            out["sweep claim (work.services._MARK_SQL, 1% due)"] = explain(
                _MARK_SQL, {"now": data.sweep_at, "limit": SWEEP_BATCH}
            )
            transaction.set_rollback(True)
        rep = User.objects.get(pk=data.reps[0])
        out["queue items (sdr.queue.queue_for, one rep)"] = explain(
            *queue_for(rep)[:PAGE_ROWS].query.sql_with_params()
        )
        loads = (
            User.objects.filter(team_id__in=data.teams, role__in=SDR_ROLES, is_active=True, is_away=False)
            .annotate(load=Count("leads", filter=Q(leads__status__in=IN_SALES)))
            .order_by("team_id", "id")
        )
        out["routing rep loads (sdr.services._lock_pools, 8 teams)"] = explain(*loads.query.sql_with_params())
    return out


PARTIAL_INDEXES = {
    "sweep claim": "workitem_sla_pending",
    "queue items": "workitem_open_queue",
}


def missing_indexes(found: dict[str, str]) -> list[str]:
    return [
        f"{name} does not use {index}"
        for name, plan in found.items()
        for prefix, index in PARTIAL_INDEXES.items()
        if name.startswith(prefix) and index not in plan
    ]
