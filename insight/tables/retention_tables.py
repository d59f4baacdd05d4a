"""The retention page's tables: retention by month and by account manager (the whole period
in the foot), and churn with its reasons."""

from ..scope import Scope
from .formatting import count, money, rate
from .table import Cell, Table, cells

RETENTION_COLUMNS = [
    "Base",
    "Renewed",
    "Expansion",
    "Contraction",
    "Churned",
    "Contracts churned",
    "Gross retention",
    "Net retention",
]


def _retention_cells(row) -> list[Cell]:
    return cells(
        row.label,
        money(row.base),
        money(row.renewed),
        money(row.expansion),
        money(row.contraction),
        money(row.churned),
        count(row.churned_count),
        rate(row.grr),
        rate(row.nrr),
    )


def retention_table(scope: Scope, by: str) -> Table:
    from .. import retention

    rows = retention.by_month(scope) if by == "month" else retention.by_am(scope)
    total = retention.total(scope)
    foot = _retention_cells(total)
    foot[0] = Cell("All")
    heading = "Month" if by == "month" else "Account manager"
    return Table(
        f"by-{by}",
        f"Retention by {heading.lower()}",
        [heading, *RETENTION_COLUMNS],
        [_retention_cells(row) for row in rows],
        numeric=set(range(1, len(RETENTION_COLUMNS) + 1)),
        foot=foot,
        note="Annual values of the contract terms ending in the period.",
    )


def churn_table(scope: Scope) -> Table:
    from .. import retention

    rows = retention.churn_reasons(scope)
    return Table(
        "churn",
        "Churn and its reasons",
        ["Reason", "Contracts", "Annual value"],
        [cells(row.reason or "No reason given", count(row.count), money(row.value)) for row in rows],
        numeric={1, 2},
        empty="No churn in this period.",
    )
