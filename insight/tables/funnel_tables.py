"""The funnel page's tables: the cohort and the flow stage by stage, the cohort by a slice
(campaign, channel, SDR...), where leads fall out and why, and the leads dropped on the floor."""

from django.urls import reverse
from django.utils import timezone

from .. import access, charts
from ..scope import Scope
from .formatting import count, duration, local_time, rate, status_label
from .table import Cell, Table, cells

DROPPED_SHOWN = 50


def _stage_rows(rows, key: str, title: str, note: str) -> Table:
    table = Table(
        key,
        title,
        ["Stage", "Leads", "Conversion", "Median time from previous stage"],
        [
            cells(
                row.label,
                count(row.count),
                rate(row.conversion) if i else "—",
                duration(row.median_from_previous) if i else "—",
            )
            for i, row in enumerate(rows)
        ],
        numeric={1, 2, 3},
        note=note,
    )
    table.chart = charts.funnel(f"chart-{key}", title, [(row.label, row.count or 0) for row in rows])
    return table


def funnel_cohort(scope: Scope) -> Table:
    from .. import funnel

    return _stage_rows(
        funnel.cohort(scope),
        "cohort",
        "Funnel: the leads first seen in the period",
        "Each stage counts the leads first seen in the period (an imported lead when its source system first saw the person) that have reached it by today.",
    )


def funnel_flow(scope: Scope) -> Table:
    from .. import funnel

    return _stage_rows(
        funnel.flow(scope),
        "flow",
        "Flow: what happened in the period",
        "Each stage counts the leads that reached it in the period, whatever their capture date.",
    )


def slices_for(user) -> list[tuple[str, str]]:
    """The slices a viewer may pick: people's names (by SDR) only for those who see people."""
    from .. import funnel

    keys = [k for k in funnel.SLICES if k != "sdr" or access.sees_people(user)]
    return [(k, funnel.SLICES[k].title) for k in keys]


def prepare_funnel(scope: Scope, by: str = "campaign") -> None:
    """Ask the funnel page's cohort, flow and slice in one statement before its tables are
    built one by one (each then reads the answer remembered on the scope)."""
    from .. import funnel

    funnel.prepare(scope, by if by in dict(slices_for(scope.user)) else "campaign")


def funnel_slice(scope: Scope, by: str = "campaign") -> Table:
    from .. import funnel

    allowed = dict(slices_for(scope.user))
    by = by if by in allowed else "campaign"
    stages = [(s.key, s.label) for s in funnel.STAGES]
    rows = funnel.by_slice(scope, by)
    return Table(
        "slice",
        f"Cohort by {allowed[by].lower()}",
        [allowed[by]] + [label for _, label in stages],
        [cells(row.label, *(count(row.counts.get(key, 0)) for key, _ in stages)) for row in rows],
        numeric=set(range(1, len(stages) + 1)),
    )


def funnel_dispositions(scope: Scope) -> Table:
    from .. import funnel

    return Table(
        "dispositions",
        "Where leads fall out, and why",
        ["Stage", "Outcome", "Reason", "Leads"],
        [
            cells(row.stage_label, row.outcome_label, row.reason or "—", count(row.count))
            for row in funnel.dispositions(scope)
        ],
        numeric={3},
    )


def funnel_dropped(scope: Scope, days: int | None = None, now=None) -> Table:
    from .. import funnel
    from ..models import HealthSettings

    days = days or HealthSettings.load().dropped_days
    now = now or timezone.now()
    people = access.sees_people(scope.user)
    # funnel.dropped's order: idle the longest first, whatever the status (MQL or working).
    facts = funnel.dropped(scope, days, now=now).select_related("lead", "sdr")
    shown = list(facts[: DROPPED_SHOWN + 1])
    tz = scope.period.tz
    rows = []
    for fact in shown[:DROPPED_SHOWN]:
        row = [
            Cell(str(fact.lead), reverse("leads:detail", args=[fact.lead_id])),
            Cell(status_label(fact.status)),
            Cell(local_time(fact.last_touch_at, tz) if fact.last_touch_at else "never"),
            Cell(f"{(now - fact.idle_since).days}"),  # type: ignore[attr-defined]  # annotated by the query
        ]
        if people:
            row.insert(2, Cell(str(fact.sdr) if fact.sdr_id else "Unassigned"))
        rows.append(row)
    columns = ["Lead", "Status", "Last touch", "Days without a touch"]
    if people:
        columns.insert(2, "SDR")
    more = len(shown) > DROPPED_SHOWN
    return Table(
        "dropped",
        f"Dropped on the floor: in a sales status, no touch for {days} days",
        columns,
        rows,
        numeric={len(columns) - 1},
        note=f"The {DROPPED_SHOWN} waiting longest." if more else "",
        empty="No lead is waiting that long.",
    )
