"""Money: what the leads cost and what they brought, by campaign and by channel, and the
qualified pipeline created month by month.

Definitions (every number is computed in SQL, on PostgreSQL and SQLite alike):

- **Spend** of a campaign in a period: its cost spread evenly over the days it runs
  (``starts_on`` to ``ends_on``, both included; no start: the local date it was created; no
  end: its start, so the whole cost falls on one day), times the days of the run inside the
  period. It is computed in whole cents, rounded half up per campaign, so the rows add up
  to the total exactly. Spend belongs to campaigns and channels only: the campaign and
  channel filters narrow it, the other filters (team, SDR, source, origin, fit) narrow the
  leads and leave the spend whole.
- **Leads, MQLs, qualified, won, pipeline, won amount**: of the cohort (the leads captured in
  the period, followed to today): how many there are, how many became an MQL (or raised a
  hand), were accepted by an AE (qualified), were won; the amounts of the accepted
  opportunities (pipeline) and of the won ones. Won amount by source campaign is the
  marketing-sourced revenue.
- **Cost per lead / MQL / qualified / won**: spend divided by the count (None when the count
  is 0); **ROI**: (won amount - spend) / spend (None without spend).
- **Pipeline by month** is a flow: the opportunities accepted in each local month of the
  period (whatever their capture date) with their amounts, and the deals won in it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connections
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least, Round, TruncDate, TruncMonth

from leads.models import Campaign, Channel

from . import answers
from .scope import Scope
from .stats import rows_counted

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
NO_CAMPAIGN = "No campaign"


@dataclass(frozen=True)
class MoneyRow:
    """One campaign's (or channel's, or the whole period's) spend and what it brought."""

    key: object
    label: str
    spend: Decimal
    leads: int
    mqls: int
    qualified: int
    won: int
    pipeline: Decimal
    won_amount: Decimal

    def _per(self, count: int) -> Decimal | None:
        return per(self.spend, count)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return self._per(self.leads)

    @property
    def cost_per_mql(self) -> Decimal | None:
        return self._per(self.mqls)

    @property
    def cost_per_qualified(self) -> Decimal | None:
        return self._per(self.qualified)

    @property
    def cost_per_won(self) -> Decimal | None:
        return self._per(self.won)

    @property
    def roi(self) -> float | None:
        """Return on spend: what the won deals brought beyond the spend, per unit of spend."""
        if not self.spend:
            return None
        return float((self.won_amount - self.spend) / self.spend)


@dataclass(frozen=True)
class MonthRow:
    """One local month of the period: qualified pipeline created and deals won in it."""

    month: date
    qualified: int
    pipeline: Decimal
    won: int
    won_amount: Decimal


# --- spend in SQL ----------------------------------------------------------------------------


class DaysFrom(Func):
    """Whole days from the second date to the first (``later - earlier``): PostgreSQL
    subtracts dates into an integer; SQLite stores dates as text, so through julianday."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _run(scope: Scope) -> tuple[Coalesce, Coalesce]:
    """A campaign's first and last day as SQL: a missing start is the local date it was created
    (or its end, if that came earlier); a missing end is its start."""
    created = TruncDate("created_at", tzinfo=scope.period.tz)
    start = Coalesce(
        "starts_on",
        Least(created, Coalesce("ends_on", created), output_field=DateField()),
        output_field=DateField(),
    )
    end = Coalesce("ends_on", start, output_field=DateField())
    return start, end


def _spend_cents(
    scope: Scope, first_day: date | None = None, last_day: date | None = None
) -> "tuple[Func[Any], Func[Any]]":
    """(days of the run inside the period, spend in the period in whole cents) as SQL; or
    inside ``first_day`` to ``last_day`` (a month of the period).

    cents * overlap / run, rounded half up, in integer arithmetic (exact on both backends):
    (2 * cents * overlap + run) div (2 * run)."""
    start, end = _run(scope)
    first = Value(first_day or scope.period.start, output_field=DateField())
    last = Value(last_day or scope.period.end, output_field=DateField())
    run = DaysFrom(end, start) + 1
    overlap = Greatest(
        DaysFrom(Least(end, last, output_field=DateField()), Greatest(start, first, output_field=DateField()))
        + 1,
        Value(0),
        output_field=IntegerField(),
    )
    cents = Cast(Round(F("cost") * Value(100)), BigIntegerField())
    spend = Func(
        cents * overlap * Value(2) + run,
        run * Value(2),
        template="((%(expressions)s))",
        arg_joiner=") / (",
        output_field=BigIntegerField(),
    )
    return overlap, spend


def _campaign_lookups(scope: Scope) -> dict:
    """The scope's filters that narrow campaigns (campaign and channel), as Campaign lookups."""
    lookups = {}
    for key, value in scope.filters.items():
        name, _, rest = key.partition("__")
        suffix = f"__{rest}" if rest else ""
        if name in ("campaign", "campaign_id"):
            if rest and rest not in ("in", "exact", "isnull"):
                lookups[rest] = value  # campaign__channel and the like
            elif rest == "in":
                lookups["pk__in"] = [getattr(v, "pk", v) for v in value]
            elif rest == "isnull":
                lookups["pk__isnull"] = value
            else:
                lookups["pk"] = getattr(value, "pk", value)
        elif name == "channel":
            lookups[f"channel{suffix}"] = value
    return lookups


def _campaigns_in_period(scope: Scope) -> QuerySet[Campaign]:
    """The campaigns (narrowed by the filters) that ran on at least one day of the period,
    with ``spend_cents``."""
    overlap, spend = _spend_cents(scope)
    return (
        Campaign.objects.filter(**_campaign_lookups(scope))
        .annotate(days_in=overlap, spend_cents=spend)
        .filter(days_in__gt=0)
    )


def _cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


# --- the cohort's counts ---------------------------------------------------------------------

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


def _row(key, label, spend_cents, counts: dict | None) -> MoneyRow:
    counts = counts or {}
    return MoneyRow(
        key=key,
        label=label,
        spend=_cents(spend_cents),
        leads=counts.get("leads") or 0,
        mqls=counts.get("mqls") or 0,
        qualified=counts.get("qualified") or 0,
        won=counts.get("won") or 0,
        pipeline=_money(counts.get("pipeline")),
        won_amount=_money(counts.get("won_amount")),
    )


def _ordered(rows: list[MoneyRow]) -> list[MoneyRow]:
    """Most spend first, then most leads; the leads with no campaign (or channel) last."""
    return sorted(rows, key=lambda r: (r.key is None or r.key == "", -r.spend, -r.leads, r.label.lower()))


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
                memo[grouping] = _measured(cohort, grouping)
    return {w: memo[w] for w in wanted}


def _measured(cohort: QuerySet, grouping: str):
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


def _spent(scope: Scope, by: str) -> dict:
    """The period's spend in cents by campaign ({id: (name, cents)}), by channel ({channel:
    cents}) or in total ({"total": cents}); each asked once per scope. Campaigns are few: a
    small query each."""
    memo = scope.__dict__.setdefault("_money_spent", {})
    if by not in memo:
        campaigns = _campaigns_in_period(scope)
        if by == "campaign":
            memo[by] = {
                c["pk"]: (c["name"], c["spend_cents"])
                for c in campaigns.values("pk", "name", "spend_cents")  # type: ignore[misc]  # annotated by _campaigns_in_period
            }
        elif by == "channel":
            memo[by] = {
                c["channel"]: c["spend"]
                for c in campaigns.values("channel").annotate(spend=Sum("spend_cents")).order_by()
            }
        else:
            memo[by] = {"total": campaigns.aggregate(spend=Sum("spend_cents"))["spend"]}
    return memo[by]


def by_campaign(scope: Scope) -> list[MoneyRow]:
    """One row per campaign that ran in the period or brought leads captured in it (and one
    for the leads with no campaign). The cohort's counts come from ``measure``; the spend is
    one small query."""
    spent = _spent(scope, "campaign")
    counts = measure(scope, ["campaign"])["campaign"]
    rows = []
    for key in spent.keys() | counts.keys():
        name = (spent.get(key) or (None,))[0] or (counts.get(key) or {}).get("name")
        label = NO_CAMPAIGN if key is None else name or f"Campaign {key}"
        rows.append(_row(key, label, (spent.get(key) or (None, None))[1], counts.get(key)))
    return _ordered(rows)


def channel_label(key: str) -> str:
    if not key:
        return NO_CAMPAIGN
    try:
        return Channel(key).label
    except ValueError:
        return key


def by_channel(scope: Scope) -> list[MoneyRow]:
    """One row per channel with spend or leads in the period (the leads with no campaign have
    no channel). The counts come from ``measure``; the spend is one small query."""
    spent = _spent(scope, "channel")
    counts = measure(scope, ["channel"])["channel"]
    rows = [
        _row(key, channel_label(key), spent.get(key), counts.get(key)) for key in spent.keys() | counts.keys()
    ]
    return _ordered(rows)


def total(scope: Scope) -> MoneyRow:
    """The whole period: every campaign's spend and the whole cohort (``measure``'s)."""
    return _row("total", "All campaigns", _spend_of(scope), measure(scope, ["total"])["total"])


def spend(scope: Scope) -> Decimal:
    """The period's spend over the campaigns the filters leave (``total``'s). One query."""
    return _cents(_spend_of(scope))


def _spend_of(scope: Scope):
    return _spent(scope, "total")["total"]


def per(spend: Decimal, count: int) -> Decimal | None:
    """Spend per lead, MQL... (to the cent, half up); None for none."""
    if not count:
        return None
    return (spend / count).quantize(CENT, rounding=ROUND_HALF_UP)


def months(scope: Scope) -> list[date]:
    """The first day of each local month the period touches, in order."""
    first, last = scope.period.start.replace(day=1), scope.period.end
    result = []
    while first <= last:
        result.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return result


def _by_month(scope: Scope, moment: str, amount: str) -> dict[date, dict]:
    """The facts with ``moment`` in the period, counted and summed by local month: COUNT(1),
    so the moment's index (which carries the amount and the filter columns) answers alone."""
    months = (
        scope.moment_in_period(moment)
        .annotate(month=TruncMonth(moment, tzinfo=scope.period.tz, output_field=DateField()))
        .values("month")
        .annotate(count=rows_counted(), amount=Sum(amount))
        .order_by()
    )
    return {r["month"]: r for r in answers.values(months, answers.of(scope))}


def pipeline_by_month(scope: Scope) -> list[MonthRow]:
    """Each local month of the period (cut to the period's days): the opportunities accepted in
    it and their amounts (qualified pipeline created), the deals won in it and their amounts.
    Two queries."""
    accepted = _by_month(scope, "accepted_at", "accepted_amount")
    won = _by_month(scope, "won_at", "won_amount")
    rows = []
    for month in months(scope):
        a, w = accepted.get(month, {}), won.get(month, {})
        rows.append(
            MonthRow(
                month=month,
                qualified=a.get("count", 0),
                pipeline=_money(a.get("amount")),
                won=w.get("count", 0),
                won_amount=_money(w.get("amount")),
            )
        )
    return rows


def spend_by_month(scope: Scope) -> list[tuple[date, Decimal]]:
    """Each local month of the period (cut to the period's days) and the spend that falls in
    it: the campaigns' costs spread over the months they run. One query. Each month is
    rounded to the cent on its own, so the months may differ from the period's spend by a cent
    or two."""
    windows = []
    for month in months(scope):
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        windows.append(
            (month, max(month, scope.period.start), min(following - timedelta(days=1), scope.period.end))
        )
    sums = _campaigns_in_period(scope).aggregate(
        **{f"m{i}": Sum(_spend_cents(scope, first, last)[1]) for i, (_, first, last) in enumerate(windows)}
    )
    return [(month, _cents(sums[f"m{i}"])) for i, (month, _, _) in enumerate(windows)]
