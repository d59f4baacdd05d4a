"""The tables of the insight pages, each one a ``Table`` the page shows and its CSV repeats
cell for cell (``csv_response``), and the chart drawn from the same rows.

A table is built by one function of the scope (``TABLES[section][key]``), so a CSV download
computes only its own table. The numbers come from the modules that own them (funnel, speed,
money, retention); this file only formats them: counts with thousands separators, durations
as people read them, money with two decimals, rates as percentages.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from work.metrics import format_duration
from work.models import Breach

from . import access, charts
from .filters import breach_lookups
from .scope import Scope

DROPPED_SHOWN = 50
NO_LEADS = "no leads"  # a rate over nothing: not 0%
CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Cell:
    text: str
    href: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    note: str = ""
    chart: charts.Chart | None = None
    foot: list[Cell] | None = None
    empty: str = "Nothing in this period."
    section: str = ""

    def csv_rows(self) -> list[list[str]]:
        rows = [self.columns] + [[c.text for c in row] for row in self.rows]
        if self.foot:
            rows.append([c.text for c in self.foot])
        return rows


def cells(*values) -> list[Cell]:
    return [v if isinstance(v, Cell) else Cell("" if v is None else str(v)) for v in values]


# -- formatting ---------------------------------------------------------------------------------


def count(value) -> str:
    return f"{value or 0:,}"


def money(value) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


COMPACT_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))


def compact_money(value) -> str:
    """A headline amount in three significant figures ("1.45 M", "66 k", "980"): a card is
    too narrow for "1,446,000.00", and the exact figure goes beside it (a title, the note)."""
    if value is None:
        return "—"
    amount = Decimal(value)
    for size, unit in COMPACT_UNITS:
        scaled = _three_figures(amount / size)
        if abs(scaled) >= 1:
            if abs(scaled) >= 1000 and unit != "B":
                continue  # 999,999 rounds to 1,000 k: one unit up reads 1 M
            return f"{_plain(scaled)} {unit}"
    return _plain(_three_figures(amount))


def _three_figures(amount: Decimal) -> Decimal:
    if not amount:
        return Decimal(0)
    return amount.quantize(Decimal(10) ** (amount.adjusted() - 2), ROUND_HALF_UP)  # 123.4: adjusted() 2


def _plain(amount: Decimal) -> str:
    """1.450 as "1.45", 66.0 as "66", 1000 as "1,000"."""
    text = f"{amount:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(part, whole) -> str:
    """``part`` of ``whole`` as a percentage with one decimal ("—" when nothing to rate)."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}%"


def rate(value) -> str:
    """A rate given as a fraction (0.25) as "25.0%"."""
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"


def duration(value: timedelta | None) -> str:
    return format_duration(value)


def safe_csv_cell(text: str) -> str:
    """A cell a spreadsheet will not read as a formula (CSV injection): a leading = + - @ (or a
    tab or carriage return) gets a quote before it."""
    return "'" + text if text.startswith(CSV_UNSAFE) else text


def csv_response(table: Table, scope: Scope, section: str) -> HttpResponse:
    period = scope.period
    name = f"insight-{section}-{table.key}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    for row in table.csv_rows():
        writer.writerow([safe_csv_cell(text) for text in row])
    return response


# -- funnel ----------------------------------------------------------------------------------------


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
    from . import funnel

    return _stage_rows(
        funnel.cohort(scope),
        "cohort",
        "Funnel: the leads captured in the period",
        "Each stage counts the leads captured in the period that have reached it by today.",
    )


def funnel_flow(scope: Scope) -> Table:
    from . import funnel

    return _stage_rows(
        funnel.flow(scope),
        "flow",
        "Flow: what happened in the period",
        "Each stage counts the leads that reached it in the period, whatever their capture date.",
    )


def slices_for(user) -> list[tuple[str, str]]:
    """The slices a viewer may pick: people's names (by SDR) only for those who see people."""
    from . import funnel

    keys = [k for k in funnel.SLICES if k != "sdr" or access.sees_people(user)]
    return [(k, funnel.SLICES[k].title) for k in keys]


def prepare_funnel(scope: Scope, by: str = "campaign") -> None:
    """Ask the funnel page's cohort, flow and slice in one statement before its tables are
    built one by one (each then reads the answer remembered on the scope)."""
    from . import funnel

    funnel.prepare(scope, by if by in dict(slices_for(scope.user)) else "campaign")


def funnel_slice(scope: Scope, by: str = "campaign") -> Table:
    from . import funnel

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
    from . import funnel

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
    from . import funnel
    from .models import HealthSettings

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
            Cell(_local(fact.last_touch_at, tz) if fact.last_touch_at else "never"),
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


def status_label(status: str) -> str:
    """A lead status as people read it ("working" as "Working (SDR)"); the fact stores the code."""
    try:
        return Lead.Status(status).label
    except ValueError:
        return status or "—"


def _local(moment: datetime | None, tz) -> str:
    if moment is None:
        return "—"
    return f"{timezone.localtime(moment, tz):%-d %b %Y %H:%M} {tz.key}"


# -- speed -------------------------------------------------------------------------------------


SPEED_BY = {"rep": "Rep", "team": "Team", "channel": "Channel", "week": "Week starting"}


def _speed_page(scope: Scope, wanted) -> dict:
    """The speed page's fact tables the viewer sees, asked in one statement the first time
    one of them is built (``speed.measure`` remembers the answers on the scope)."""
    from . import speed

    shown = tables_for("speed", scope)
    page = [key.removeprefix("speed-") for key in shown if key.startswith("speed-")]
    if "decay" in shown:
        page.append(speed.DECAY)
    return speed.measure(scope, [*page, *(w for w in wanted if w not in page)])


def speed_table(scope: Scope, by: str) -> Table:
    rows = _speed_page(scope, [by])[by]
    return Table(
        f"speed-{by}",
        f"Speed to lead by {SPEED_BY[by].lower()}",
        [
            SPEED_BY[by],
            "First touches",
            "Median",
            "90th percentile",
            "Median (business)",
            "90th percentile (business)",
        ],
        [
            cells(
                _speed_label(row, by),
                count(row.touches),
                duration(row.median),
                duration(row.p90),
                duration(row.median_business),
                duration(row.p90_business),
            )
            for row in rows
        ],
        numeric={1, 2, 3, 4, 5},
        empty="No first touches in this period.",
    )


def _speed_label(row, by: str) -> str:
    if by == "week" and isinstance(row.key, date | datetime):
        return f"{row.key:%-d %b %Y}"
    return str(row.label)


def speed_overall(scope: Scope):
    """The one row of speed to lead over the whole scope (None without touches)."""
    from . import speed

    rows = speed.speed(scope)
    return rows[0] if rows else None


def decay_table(scope: Scope) -> Table:
    from . import speed

    rows = _speed_page(scope, [speed.DECAY])[speed.DECAY]
    table = Table(
        "decay",
        "Conversion by time to first touch",
        ["Time to first touch", "Leads", "Handed off", "%", "Accepted", "%", "Won", "%"],
        [
            cells(
                row.label,
                count(row.leads),
                count(row.handed_off),
                percent(row.handed_off, row.leads) if row.leads else NO_LEADS,
                count(row.accepted),
                percent(row.accepted, row.leads) if row.leads else NO_LEADS,
                count(row.won),
                percent(row.won, row.leads) if row.leads else NO_LEADS,
            )
            for row in rows
        ],
        numeric=set(range(1, 8)),
        note="The leads captured in the period, by how long their first touch took.",
    )

    def rates(attr):
        """None for a bucket without leads: it has no rate (the chart leaves a gap there)."""
        return [100 * getattr(r, attr) / r.leads if r.leads else None for r in rows]

    table.chart = charts.lines(
        "chart-decay",
        "Conversion by time to first touch",
        [row.label for row in rows],
        [
            ("Handed off", "s-handoff", rates("handed_off")),
            ("Accepted", "s-accepted", rates("accepted")),
            ("Won", "s-won", rates("won")),
        ],
    )
    return table


def breach_weeks(scope: Scope) -> Table:
    """First-touch and other SLA breaches by the local week they fell due in: a manager's teams'
    (all for a superuser), an SDR's own."""
    user = scope.user
    breaches = (
        Breach.objects.visible_to(user) if access.sees_people(user) else Breach.objects.filter(owner=user)
    )
    tz = scope.period.tz
    counts = dict(
        breaches.filter(
            breach_lookups(scope), due_at__gte=scope.period.start_at, due_at__lt=scope.period.end_at
        )
        .annotate(week=TruncWeek("due_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    counts = {(w.date() if isinstance(w, datetime) else w): n for w, n in counts.items()}
    monday = scope.period.start - timedelta(days=scope.period.start.weekday())
    weeks = []
    while monday <= scope.period.end:
        weeks.append((monday, counts.get(monday, 0)))
        monday += timedelta(days=7)
    table = Table(
        "breaches",
        "SLA breaches per week",
        ["Week starting", "Breaches"],
        [cells(f"{w:%-d %b %Y}", count(n)) for w, n in weeks],
        numeric={1},
        note=f"By the week the item fell due, weeks starting Monday in {tz.key}.",
    )
    table.chart = charts.columns(
        "chart-breaches", "SLA breaches per week", [(f"{w:%-d %b}", n, count(n)) for w, n in weeks]
    )
    return table


# -- money -------------------------------------------------------------------------------------


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
    from . import money as money_numbers

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
        note="Spend is the campaign's cost spread over the days it runs; leads are those captured "
        "in the period, followed to today; qualified means accepted by an AE.",
    )


def pipeline_table(scope: Scope) -> Table:
    from . import money as money_numbers

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


# -- retention -------------------------------------------------------------------------------


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
    from . import retention

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
    from . import retention

    rows = retention.churn_reasons(scope)
    return Table(
        "churn",
        "Churn and its reasons",
        ["Reason", "Contracts", "Annual value"],
        [cells(row.reason or "No reason given", count(row.count), money(row.value)) for row in rows],
        numeric={1, 2},
        empty="No churn in this period.",
    )


# -- the registry ------------------------------------------------------------------------------


TABLES: dict[str, dict[str, Callable[..., Table]]] = {
    "funnel": {
        "cohort": funnel_cohort,
        "flow": funnel_flow,
        "slice": funnel_slice,
        "dispositions": funnel_dispositions,
        "dropped": funnel_dropped,
    },
    "speed": {
        "speed-rep": partial(speed_table, by="rep"),
        "speed-team": partial(speed_table, by="team"),
        "speed-channel": partial(speed_table, by="channel"),
        "speed-week": partial(speed_table, by="week"),
        "decay": decay_table,
        "breaches": breach_weeks,
    },
    "money": {
        "by-campaign": lambda scope: money_table(scope, "campaign"),
        "by-channel": lambda scope: money_table(scope, "channel"),
        "pipeline": pipeline_table,
    },
    "retention": {
        "by-month": lambda scope: retention_table(scope, "month"),
        "by-am": lambda scope: retention_table(scope, "am"),
        "churn": churn_table,
    },
}


def tables_for(section: str, scope: Scope) -> list[str]:
    """The table keys ``scope.user`` sees on a section's page, in page order."""
    keys = list(TABLES[section])
    people = access.sees_people(scope.user)
    if section == "speed" and not people:
        keys = [k for k in keys if k not in ("speed-team",)]
    if section == "speed" and not (people or scope.user.is_sdr):
        keys = [k for k in keys if k != "speed-rep"]
    if section == "retention" and not (people or scope.user.role == "am"):
        keys = [k for k in keys if k != "by-am"]
    return keys
