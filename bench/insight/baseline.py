"""The insight pages' baseline: the cohort's stage counts and median capture-to-first-touch by
one ``GROUP BY`` over the raw rows, and whether ``insight.funnel`` counts the same."""

from dataclasses import dataclass, field
from time import perf_counter_ns as time_ns

from ..timing import percentile
from .data import DataSet
from .pages import FILTERS, PERIODS, SLOW_CASE_MS, SLOW_CASE_REQUESTS, period_for


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
