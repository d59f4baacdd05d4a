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
churned when its year is over)."""

import traceback
from dataclasses import dataclass

from .baseline import BaselineCase, measure_baseline
from .data import DataSet, generate
from .facts import FactsCost, measure_facts
from .pages import Page, Rewarm, measure_pages, measure_rewarm, period_query


@dataclass
class InsightFigures:
    data: DataSet
    facts: FactsCost
    pages: list[Page]
    baseline: list[BaselineCase]
    period_query: str  # how a period was asked for
    requests: int  # timed requests per case
    rewarm: Rewarm | None = None

    @property
    def baseline_p95_ms(self) -> float:
        return max(b.p95_ms for b in self.baseline)


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
