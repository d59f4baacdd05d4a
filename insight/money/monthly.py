"""Month by month: the local months a period touches, the qualified pipeline created and the
deals won in each (a flow: whatever the capture date), and the spend that falls in each."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DateField, Sum
from django.db.models.functions import TruncMonth

from .. import answers
from ..scope import Scope
from ..stats import rows_counted
from .costs import campaigns_in_period, spend_cents
from .figures import MonthRow, from_cents, to_cent


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
                pipeline=to_cent(a.get("amount")),
                won=w.get("count", 0),
                won_amount=to_cent(w.get("amount")),
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
    sums = campaigns_in_period(scope).aggregate(
        **{f"m{i}": Sum(spend_cents(scope, first, last)[1]) for i, (_, first, last) in enumerate(windows)}
    )
    return [(month, from_cents(sums[f"m{i}"])) for i, (month, _, _) in enumerate(windows)]
