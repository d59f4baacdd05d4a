"""Spend in SQL: a campaign's cost spread evenly over the days it runs, times the days of the
run inside the period (or a month of it), in whole cents rounded half up per campaign, on
PostgreSQL and SQLite alike. Spend belongs to campaigns and channels only: the campaign and
channel filters narrow it; the other filters narrow the leads and leave the spend whole."""

from datetime import date
from typing import Any

from django.db.models import BigIntegerField, DateField, F, Func, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Greatest, Least, Round, TruncDate

from leads.models import Campaign

from ..scope import Scope


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


def spend_cents(
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


def campaigns_in_period(scope: Scope) -> QuerySet[Campaign]:
    """The campaigns (narrowed by the filters) that ran on at least one day of the period,
    with ``spend_cents``."""
    overlap, spend = spend_cents(scope)
    return (
        Campaign.objects.filter(**_campaign_lookups(scope))
        .annotate(days_in=overlap, spend_cents=spend)
        .filter(days_in__gt=0)
    )


def spent_cents(scope: Scope, by: str) -> dict:
    """The period's spend in cents by campaign ({id: (name, cents)}), by channel ({channel:
    cents}) or in total ({"total": cents}); each asked once per scope. Campaigns are few: a
    small query each."""
    memo = scope.__dict__.setdefault("_money_spent", {})
    if by not in memo:
        campaigns = campaigns_in_period(scope)
        if by == "campaign":
            memo[by] = {
                c["pk"]: (c["name"], c["spend_cents"])
                for c in campaigns.values("pk", "name", "spend_cents")  # type: ignore[misc]  # annotated by campaigns_in_period
            }
        elif by == "channel":
            memo[by] = {
                c["channel"]: c["spend"]
                for c in campaigns.values("channel").annotate(spend=Sum("spend_cents")).order_by()
            }
        else:
            memo[by] = {"total": campaigns.aggregate(spend=Sum("spend_cents"))["spend"]}
    return memo[by]
