"""The cohort's counts and amounts (leads, MQLs, qualified, won, pipeline, won amount) by
campaign, by channel and in total: on PostgreSQL one pass over the cohort read from the
``fact_money`` index alone, on SQLite one statement per grouping; remembered on the scope so
the page's tables ask once."""

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum

from leads.models import Campaign

from .. import answers
from ..scope import Scope
from ..stats import rows_counted

# Rows counted with COUNT(1) and the moments with COUNT(column): no column beyond those the
# ``fact_money`` index carries is read, so PostgreSQL answers from the index alone.
COHORT_AGGREGATES = {
    "leads": rows_counted(),
    "mqls": Count("mql_at"),
    "qualified": Count("accepted_at"),
    "won": Count("won_at"),
    "pipeline": Sum("accepted_amount", filter=Q(accepted_at__isnull=False)),
    "won_amount": Sum("won_amount", filter=Q(won_at__isnull=False)),
}
COUNTED = tuple(COHORT_AGGREGATES)
# The groupings of the money page: by campaign, by channel, the whole cohort.
GROUPINGS = ("campaign", "channel", "total")
COHORT_COLUMNS = (
    "campaign_id",
    "channel",
    "mql_at",
    "accepted_at",
    "won_at",
    "accepted_amount",
    "won_amount",
)


def measure(scope: Scope, wanted=GROUPINGS) -> dict:
    """The cohort's counts and amounts by campaign ({id: counts with its "name"}), by channel
    ({channel: counts}) and in total (counts): each of ``wanted`` of ``GROUPINGS``. Answers
    are remembered on the scope (one request's question: the page shows the total under both
    tables), so the tables, built one by one, ask once.

    PostgreSQL: all three in one statement, one pass over the cohort (GROUPING SETS) read from
    the ``fact_money`` index alone. SQLite has no GROUPING SETS: one statement per grouping
    asked, the same aggregates, so the same numbers."""
    memo = scope.__dict__.setdefault("_money_memo", {})
    missing = [w for w in wanted if w not in memo]
    if missing:
        cohort = scope.cohort().order_by()
        if connections[cohort.db].vendor == "postgresql":
            memo.update(_measured_in_one_pass(cohort, answers.of(scope)))
        for grouping in missing:
            if grouping not in memo:
                memo[grouping] = measured(cohort, grouping)
    return {w: memo[w] for w in wanted}


def measured(cohort: QuerySet, grouping: str):
    """One grouping of ``measure`` through the ORM (SQLite)."""
    if grouping == "total":
        return cohort.aggregate(**COHORT_AGGREGATES)
    if grouping == "campaign":
        rows = cohort.values("campaign_id", name=F("campaign__name")).annotate(**COHORT_AGGREGATES)
        return {r["campaign_id"]: r for r in rows}
    return {r["channel"]: r for r in cohort.values("channel").annotate(**COHORT_AGGREGATES)}


def _measured_in_one_pass(cohort: QuerySet, generation) -> dict:
    """The three groupings in one GROUP BY GROUPING SETS over the cohort's columns (the ORM's
    own SQL for the cohort, so the viewer's rules and the filters are the page's); the
    campaigns' names joined to the few groups after."""
    inner, params = cohort.values(*COHORT_COLUMNS).query.sql_with_params()
    campaigns = Campaign._meta.db_table
    # Counted first by (campaign, channel) pair, a plain GROUP BY PostgreSQL may share among
    # its parallel workers (GROUPING SETS never is), then the few pairs rolled up by campaign,
    # by channel and in total: sums of counts and of amounts, so exact.
    sql = f"""
        SELECT g.*, n.name FROM (
            SELECT GROUPING(p.campaign_id) AS no_campaign, GROUPING(p.channel) AS no_channel,
                   p.campaign_id, p.channel, SUM(p.leads), SUM(p.mqls), SUM(p.qualified),
                   SUM(p.won), SUM(p.pipeline), SUM(p.won_amount)
            FROM (
                SELECT c.campaign_id, c.channel, COUNT(1) AS leads, COUNT(c.mql_at) AS mqls,
                       COUNT(c.accepted_at) AS qualified, COUNT(c.won_at) AS won,
                       SUM(c.accepted_amount) FILTER (WHERE c.accepted_at IS NOT NULL) AS pipeline,
                       SUM(c.won_amount) FILTER (WHERE c.won_at IS NOT NULL) AS won_amount
                FROM ({inner}) AS c
                GROUP BY c.campaign_id, c.channel
            ) AS p
            GROUP BY GROUPING SETS ((p.campaign_id), (p.channel), ())
        ) AS g LEFT JOIN "{campaigns}" AS n ON n."{Campaign._meta.pk.column}" = g.campaign_id
    """
    found: dict[str, dict] = {"campaign": {}, "channel": {}, "total": {}}
    _, rows = answers.fetch(cohort.db, sql, params, generation)
    for no_campaign, no_channel, campaign_id, channel, *values, name in rows:
        counts = dict(zip(COUNTED, values, strict=True))
        if not no_campaign:
            found["campaign"][campaign_id] = {**counts, "name": name}
        elif not no_channel:
            found["channel"][channel] = counts
        else:
            found["total"] = counts
    return found
