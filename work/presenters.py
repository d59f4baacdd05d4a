"""What the breach review shows beside the rows ``work.metrics`` and the queries read: each
summary row's link to the list narrowed to it, the by-rep rows' breach rates, how late each
breach was and how soon each item at risk falls due, as text. The templates read these
dataclasses, not attributes attached to the breaches, work items or metric rows."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import metrics
from .models import Breach, WorkItem


@dataclass(frozen=True)
class CountLine:
    """A summary row (a rep, team, policy or day) with the query of the list narrowed to it
    ("" for no link: "unassigned", "no team"); for a rep, their timed and breached items."""

    label: str
    breaches: int
    unacknowledged: int
    query: str
    timed: int = 0
    breached: int = 0


@dataclass(frozen=True)
class Summary:
    """The breach counts by team, policy and due day, each row linked to the list narrowed to
    it; and the by-rep table (``rep_lines``)."""

    by_team: list[CountLine]
    by_policy: list[CountLine]
    by_day: list[CountLine]
    more_days: bool


def _line(row: metrics.CountRow, query: str, **rate) -> CountLine:
    return CountLine(row.label, row.breaches, row.unacknowledged, query, **rate)


def summary(counts: metrics.BreachCounts, query: Callable[..., str]) -> Summary:
    """``query(**filters)``: the current filters with these replaced, as a query string."""
    return Summary(
        by_team=[_line(row, query(team=row.key) if row.key else "") for row in counts.by_team],
        by_policy=[_line(row, query(policy=row.key)) for row in counts.by_policy],
        by_day=[_line(row, query(due_after=row.label, due_before=row.label)) for row in counts.by_day],
        more_days=counts.more_days,
    )


def rep_lines(
    counts: list[metrics.CountRow], rates: list[metrics.RateRow], query: Callable[..., str]
) -> list[CountLine]:
    """The by-rep table: breach counts beside each rep's breach rate (reps with timed items
    but no breach shown too, with a zero)."""
    rates_by_rep: dict[object, metrics.RateRow] = {r.rep_id: r for r in rates}
    lines = []
    for row in counts:
        rate = rates_by_rep.pop(row.key, None)
        timed, breached = (rate.timed, rate.breached) if rate else (0, 0)
        lines.append(_line(row, query(rep=row.key) if row.key else "", timed=timed, breached=breached))
    for rate in rates_by_rep.values():
        query_text = query(rep=rate.rep_id) if rate.rep_id else ""
        lines.append(CountLine(rate.label, 0, 0, query_text, timed=rate.timed, breached=rate.breached))
    return lines


@dataclass(frozen=True)
class LateBreach:
    """A breach in the list, with how late the work was as text."""

    breach: Breach
    late_text: str


def late_breaches(breaches: Iterable[Breach]) -> list[LateBreach]:
    """``breaches`` annotated with ``late_by`` (``filters.for_list``), as the list shows them."""
    return [LateBreach(breach, metrics.format_duration(breach.late_by)) for breach in breaches]  # type: ignore[attr-defined]  # annotated by filters.for_list


@dataclass(frozen=True)
class AtRisk:
    """An open item due soon, and how soon (negative: overdue)."""

    item: WorkItem
    due_in: timedelta
    due_in_text: str


def at_risk(items: Iterable[WorkItem], now: datetime) -> list[AtRisk]:
    return [AtRisk(item, item.due_at - now, metrics.format_duration(item.due_at - now)) for item in items]
