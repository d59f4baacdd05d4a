"""Figure 3: the engagement threshold sweep (``leads.services.sweep_engagement_thresholds``)
over a large leads table, beside a plain ``UPDATE`` of every lead.

The leads are generated in SQL (``INSERT ... SELECT FROM generate_series``), a million in
well under a minute. 1% of them cross a threshold, marked by id so that they can be put back
between runs:

* ``id % 200 = 0``: nurture leads with 50 points of engagement today (MQL threshold 40), to
  be promoted;
* ``id % 200 = 100``: unowned MQLs, not hand-raisers, down to 5 points today (cold
  threshold 10), to be cooled back to nurture;
* every other lead sits well inside its band: nurture and recycled leads at most 30 points
  (or none at all), unowned MQLs at least 15, the rest (owned, worked, closed) anything.

Keys are computed with ``leads.scoring`` and the default ``ScoringSettings`` (half-life 14
days, MQL 40, cold 10), as of the generation time; the sweep runs minutes later, which moves
a 14-day decay by a negligible amount.
"""

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .env import connect, run_worker, scalar
from .timing import Timer

PROMOTE_POINTS = 50.0  # above the MQL threshold (40) today
COOL_POINTS = 5.0  # below the cold threshold (10) today

GENERATE_SQL = """
WITH g AS (
    SELECT i, (i * 7919) %% 100 AS bucket, (i * 104729) %% 1000 AS spread
    FROM generate_series(1, %(n)s::bigint) AS i
), k AS (
    SELECT g.*,
        CASE
            WHEN i %% 200 = 0 THEN 'promote'
            WHEN i %% 200 = 100 THEN 'cool'
            WHEN bucket < 60 THEN 'nurture'
            WHEN bucket < 62 THEN 'recycled'
            WHEN bucket < 72 THEN 'mql'
            WHEN bucket < 82 THEN 'working'
            WHEN bucket < 87 THEN 'handed_off'
            WHEN bucket < 90 THEN 'won'
            WHEN bucket < 94 THEN 'lost'
            ELSE 'disqualified'
        END AS kind,
        %(now)s::timestamptz - (i %% 730) * interval '1 day' - (i %% 86400) * interval '1 second'
            AS captured,
        (i * 13) %% 101 AS fit
    FROM g
)
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at,
    external_system, source_attributes, first_seen_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id
)
SELECT
    i,
    'lead' || i || '@company' || (i %% 20000) || '.example',
    (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Donald'])[1 + i %% 8],
    'Lead' || i,
    'Company ' || (i %% 20000),
    (ARRAY['VP Sales', 'CTO', 'Marketing Manager', 'Software Engineer', 'Director of IT', 'CEO'])[1 + i %% 6],
    (ARRAY['vp', 'c_level', 'manager', 'individual', 'director', 'c_level'])[1 + i %% 6],
    (ARRAY['Technology', 'Financial Services', 'Healthcare', 'Retail', 'Manufacturing', 'Media', ''])
        [1 + i %% 7],
    CASE WHEN i %% 5 = 0 THEN NULL ELSE 1 + (i * 31) %% 10000 END,
    CASE WHEN i %% 4 = 0 THEN NULL ELSE ((i * 17) %% 1000) * 100000 END,
    (ARRAY['US', 'DE', 'GB', 'CA', 'FR', 'ES', 'JP', ''])[1 + i %% 8],
    '+1-555-' || lpad((i %% 10000)::text, 4, '0'),
    (%(channels)s::text[])[1 + i %% cardinality(%(channels)s::text[])],
    CASE kind WHEN 'promote' THEN 'nurture' WHEN 'cool' THEN 'mql' ELSE kind END,
    '',
    kind = 'mql' AND i %% 10 = 3,
    (ARRAY['', '', '', 'A', 'B', 'C'])[1 + i %% 6],
    fit,
    CASE WHEN fit >= 75 THEN 'A' WHEN fit >= 50 THEN 'B' WHEN fit >= 25 THEN 'C' ELSE 'D' END,
    CASE
        WHEN kind = 'promote' THEN %(promote_key)s
        WHEN kind = 'cool' THEN %(cool_key)s
        WHEN kind IN ('nurture', 'recycled') AND spread < 400 THEN %(no_engagement)s
        -- 1 to 30 points today: below the MQL threshold
        WHEN kind IN ('nurture', 'recycled') THEN ln(1 + spread %% 30) / ln(2) + %(half_lives)s
        -- 15 to 214 points today: above the cold threshold
        WHEN kind = 'mql' THEN ln(15 + spread %% 200) / ln(2) + %(half_lives)s
        WHEN spread < 300 THEN %(no_engagement)s
        ELSE ln(1 + spread %% 100) / ln(2) + %(half_lives)s
    END,
    '',
    '',
    NULL,
    '',
    '{}'::jsonb,
    captured,
    captured,
    CASE WHEN kind IN ('cool', 'mql', 'working', 'handed_off', 'won', 'lost') THEN captured END,
    captured,
    %(now)s::timestamptz,
    CASE WHEN i %% 3 = 0 THEN NULL ELSE (%(campaigns)s::bigint[])[1 + i %% cardinality(%(campaigns)s::bigint[])] END,
    CASE
        WHEN kind IN ('working', 'handed_off', 'won', 'lost') OR (kind = 'mql' AND i %% 2 = 0)
        THEN (%(owners)s::bigint[])[1 + i %% cardinality(%(owners)s::bigint[])]
    END
FROM k
"""

# Put the crossing leads back as generated, so each run sweeps a fresh copy of the data.
RESET_SQL = (
    "UPDATE leads_lead SET status = 'nurture', mql_at = NULL, status_reason = '',"
    " status_changed_at = captured_at WHERE id % 200 = 0 AND status <> 'nurture'",
    "UPDATE leads_lead SET status = 'mql', mql_at = captured_at, status_reason = '',"
    " status_changed_at = captured_at WHERE id % 200 = 100 AND status <> 'mql'",
    "TRUNCATE leads_leadevent",
    "VACUUM ANALYZE leads_lead",
    "VACUUM ANALYZE leads_leadevent",
)


@dataclass
class SweepRuns:
    leads: int
    expected_promoted: int
    expected_cooled: int
    seconds: list[float] = field(default_factory=list)
    rss_growth_kib: list[int] = field(default_factory=list)
    tracemalloc_peak_kib: int = 0
    generate_seconds: float = 0.0
    plans: dict[str, str] = field(default_factory=dict)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def moved(self) -> int:
        return self.expected_promoted + self.expected_cooled


@dataclass
class SweepFigures:
    small: SweepRuns  # the smaller table, 1% crossing
    large: SweepRuns  # the larger table, 1% crossing: the figure
    same_crossings: SweepRuns  # the larger table with only the smaller one's crossing leads
    update_seconds: float


def generate_leads(n: int, *, owners: list[int], campaigns: list[int], now: datetime) -> float:
    """Replace the leads with ``n`` generated ones; returns the seconds it took."""
    from leads.models import NO_ENGAGEMENT, Channel, ScoringSettings
    from leads.scoring import engagement_key, threshold_key

    from .csv_import import LEAD_TABLES

    half_life = ScoringSettings.load().half_life_days  # the default, 14 days
    params = {
        "n": n,
        "now": now,
        "half_lives": threshold_key(1.0, now, half_life),  # log2(1) = 0: the time term alone
        "promote_key": engagement_key(PROMOTE_POINTS, now, half_life),
        "cool_key": engagement_key(COOL_POINTS, now, half_life),
        "no_engagement": NO_ENGAGEMENT,
        "channels": [c.value for c in Channel if c != Channel.OUTBOUND],
        "campaigns": campaigns,
        "owners": owners,
    }
    with connect() as conn, Timer() as timer:
        conn.execute(f"TRUNCATE {LEAD_TABLES} RESTART IDENTITY CASCADE")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(GENERATE_SQL, params)
        conn.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [n])
        conn.execute("VACUUM ANALYZE leads_lead")
    return timer.seconds


def count_candidates(now: datetime) -> tuple[int, int]:
    """How many leads cross each threshold now, counted with plain SQL (the sweep's answer
    must match)."""
    from leads.models import ScoringSettings
    from leads.scoring import threshold_key

    settings = ScoringSettings.load()
    mql_key = threshold_key(settings.mql_threshold, now, settings.half_life_days)
    cold_key = threshold_key(settings.cold_threshold, now, settings.half_life_days)
    with connect() as conn:
        promote = scalar(
            conn,
            "SELECT count(*) FROM leads_lead WHERE status IN ('nurture', 'recycled') AND engagement_key >= %s",
            [mql_key],
        )
        cool = scalar(
            conn,
            "SELECT count(*) FROM leads_lead WHERE status = 'mql' AND owner_id IS NULL"
            " AND NOT hand_raiser AND engagement_key < %s",
            [cold_key],
        )
    return promote, cool


def candidate_plans() -> dict[str, str]:
    """The plans PostgreSQL chooses for the statements that claim the sweep's candidates,
    exactly as the service sends them: a sweep runs inside a transaction that is rolled back
    (nothing moves), its claiming statements (``FOR UPDATE SKIP LOCKED``) are captured, and
    each distinct one is EXPLAINed. The service claims promotions first, then cooling."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from leads.services import sweep_engagement_thresholds

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        sweep_engagement_thresholds()
        transaction.set_rollback(True)
    claims = list(dict.fromkeys(q["sql"] for q in queries if "SKIP LOCKED" in q["sql"].upper()))
    names = ["promotion", "cooling"] if len(claims) == 2 else [f"claim {n + 1}" for n in range(len(claims))]
    plans = {}
    with connection.cursor() as cursor:
        for name, sql in zip(names, claims, strict=True):
            cursor.execute(f"EXPLAIN {sql}")
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def reset_crossings() -> None:
    with connect() as conn:
        for statement in RESET_SQL:
            conn.execute(statement)


def _expected_crossings(n: int) -> tuple[int, int]:
    # Ids 1..n: multiples of 200 are promoted, ids 100 more than a multiple of 200 cooled.
    return n // 200, (n + 100) // 200


def _sweep_runs(runs: SweepRuns, repeats: int) -> SweepRuns:
    """Sweep ``repeats`` times timed and once traced, each in a fresh process and on freshly
    reset crossing leads; every run must move exactly the expected leads."""
    runs.plans = candidate_plans()
    expected = (runs.expected_promoted, runs.expected_cooled)
    for trace in [False] * repeats + [True]:
        result = run_worker(*(["--trace"] if trace else []), "sweep")
        if (result["promoted"], result["cooled"]) != expected:
            raise RuntimeError(
                f"the sweep moved {result['promoted']}+{result['cooled']}, expected {expected}"
            )
        if trace:
            runs.tracemalloc_peak_kib = result["tracemalloc_peak_kib"]
        else:
            runs.seconds.append(result["seconds"])
            runs.rss_growth_kib.append(result["rss_growth_kib"])
        reset_crossings()
    return runs


def measure_sweeps(n: int, *, owners: list[int], campaigns: list[int], repeats: int = 3) -> SweepRuns:
    """Generate ``n`` leads (1% crossing), then sweep them ``repeats`` times timed and once
    traced."""
    generate_seconds = generate_leads(n, owners=owners, campaigns=campaigns, now=timezone.now())
    counted = count_candidates(timezone.now())
    if counted != _expected_crossings(n):
        raise RuntimeError(f"generated {counted} promotion and cooling candidates, expected 0.5% each")
    runs = SweepRuns(leads=n, expected_promoted=counted[0], expected_cooled=counted[1])
    runs.generate_seconds = generate_seconds
    return _sweep_runs(runs, repeats)


def measure_same_crossings(n: int, crossing_ids_up_to: int, *, repeats: int = 1) -> SweepRuns:
    """On the ``n`` leads already generated, keep only the crossing leads with ids up to
    ``crossing_ids_up_to`` (as many as the smaller data set has) and move the others' keys
    inside their bands (20 points today: above cold, below MQL), then sweep. The table keeps
    its size, the work the sweep must do shrinks to the smaller set's: what is left is the
    cost of the table's size alone."""
    from leads.models import ScoringSettings
    from leads.scoring import engagement_key

    in_band_key = engagement_key(20.0, timezone.now(), ScoringSettings.load().half_life_days)
    with connect() as conn:
        conn.execute(
            "UPDATE leads_lead SET engagement_key = %s WHERE id %% 200 IN (0, 100) AND id > %s",
            [in_band_key, crossing_ids_up_to],
        )
        conn.execute("VACUUM ANALYZE leads_lead")
    counted = count_candidates(timezone.now())
    if counted != _expected_crossings(crossing_ids_up_to):
        raise RuntimeError(
            f"kept {counted} promotion and cooling candidates, expected {crossing_ids_up_to}'s"
        )
    runs = SweepRuns(leads=n, expected_promoted=counted[0], expected_cooled=counted[1])
    return _sweep_runs(runs, repeats)


def update_all_baseline() -> tuple[float, int]:
    """``UPDATE leads_lead SET updated_at = now()``: touching every lead once, which a decay
    job that rewrote each lead's score would do on every run. Returns (seconds, rows)."""
    with connect() as conn, Timer() as timer:
        rows = conn.execute("UPDATE leads_lead SET updated_at = now()").rowcount
    return timer.seconds, rows
