"""The money page's tables: money by campaign and by channel (the whole period in the foot),
and the qualified pipeline per month."""

from .. import charts
from ..scope import Scope
from .formatting import count, money, rate
from .table import Cell, Table, cells

MONEY_COLUMNS = [
    "Spend",
    "Leads",
    "MQLs",
    "Qualified",
    "Won",
    "Pipeline",
    "Won amount",
    "Cost per lead",
    "Cost per MQL",
    "Cost per qualified",
    "Cost per won",
    "ROI",
]


def _money_cells(row) -> list[Cell]:
    return cells(
        row.label,
        money(row.spend),
        count(row.leads),
        count(row.mqls),
        count(row.qualified),
        count(row.won),
        money(row.pipeline),
        money(row.won_amount),
        money(row.cost_per_lead),
        money(row.cost_per_mql),
        money(row.cost_per_qualified),
        money(row.cost_per_won),
        rate(row.roi),
    )


def money_table(scope: Scope, by: str) -> Table:
    from .. import money as money_numbers

    rows = money_numbers.by_campaign(scope) if by == "campaign" else money_numbers.by_channel(scope)
    total = money_numbers.total(scope)
    foot = _money_cells(total)
    foot[0] = Cell("All")
    return Table(
        f"by-{by}",
        f"Money by {by}",
        [by.capitalize(), *MONEY_COLUMNS],
        [_money_cells(row) for row in rows],
        numeric=set(range(1, len(MONEY_COLUMNS) + 1)),
        foot=foot,
        note="Spend is the campaign's cost spread over the days it runs; leads are those first seen "
        "in the period, followed to today; qualified means accepted by an AE.",
    )


def pipeline_table(scope: Scope) -> Table:
    from .. import money as money_numbers

    rows = money_numbers.pipeline_by_month(scope)
    table = Table(
        "pipeline",
        "Qualified pipeline per month",
        ["Month", "Qualified opportunities", "Pipeline", "Won", "Won amount"],
        [
            cells(
                f"{row.month:%b %Y}",
                count(row.qualified),
                money(row.pipeline),
                count(row.won),
                money(row.won_amount),
            )
            for row in rows
        ],
        numeric={1, 2, 3, 4},
        note=f"Opportunities accepted by an AE in each month ({scope.period.tz.key}).",
    )
    table.chart = charts.columns(
        "chart-pipeline",
        "Qualified pipeline per month",
        [(f"{row.month:%b %Y}", float(row.pipeline or 0), money(row.pipeline)) for row in rows],
    )
    return table
