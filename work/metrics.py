"""The breach review's numbers, computed in the database: breach counts by rep, team, policy
and day, breach rate by rep, and speed to first touch (median and 90th percentile) by rep.

Every function takes querysets already narrowed to what the reader may see and to the chosen
filters, and issues a fixed number of grouped queries whatever the number of rows.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate

from .models import Breach, WorkItem

DAYS_SHOWN = 31
UNASSIGNED = "Unassigned"


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: the
    continuous percentile, interpolated between the two nearest values."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        # A checked float, so it is safe to write into the SQL as a literal.
        super().__init__(expression, fraction=repr(fraction), **extra)


def percentile_cont(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """The same interpolation as ``percentile_cont``, in Python, for databases without it."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def format_duration(value: timedelta | None) -> str:
    """A duration as a person reads it: "45 s", "12 min", "3 h 05 min", "2 d 4 h"."""
    if value is None:
        return "—"
    seconds = round(abs(value.total_seconds()))
    sign = "-" if value.total_seconds() < 0 and seconds else ""
    if seconds < 60:
        text = f"{seconds} s"
    elif seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        text = f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    else:
        days, rest = divmod(seconds, 86400)
        hours = rest // 3600
        text = f"{days} d {hours} h" if hours else f"{days} d"
    return sign + text


def _person(first: str | None, last: str | None, username: str | None) -> str:
    if username is None:
        return UNASSIGNED
    return f"{first or ''} {last or ''}".strip() or username


# --- breach counts ---------------------------------------------------------------------------


@dataclass
class CountRow:
    key: object  # what to filter on to see these breaches (rep id, team id, policy id, day)
    label: str
    breaches: int
    unacknowledged: int


@dataclass
class BreachCounts:
    by_rep: list[CountRow]
    by_team: list[CountRow]
    by_policy: list[CountRow]
    by_day: list[CountRow]  # newest first, at most DAYS_SHOWN days
    more_days: bool


def _unacknowledged() -> Count:
    return Count("id", filter=Q(acknowledged_at__isnull=True))


def breach_counts(breaches: QuerySet[Breach]) -> BreachCounts:
    """Breaches (and how many are not acknowledged yet) by rep, team, policy and due day:
    four GROUP BY queries."""
    breaches = breaches.order_by()
    by_rep = [
        CountRow(
            r["owner"],
            _person(r["owner__first_name"], r["owner__last_name"], r["owner__username"]),
            r["breaches"],
            r["unacknowledged"],
        )
        for r in breaches.values("owner", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(breaches=Count("id"), unacknowledged=_unacknowledged())
        .order_by("-breaches", "owner__first_name", "owner__last_name", "owner__username")
    ]
    by_team = [
        CountRow(r["team"], r["team__name"] or "No team", r["breaches"], r["unacknowledged"])
        for r in breaches.values("team", "team__name")
        .annotate(breaches=Count("id"), unacknowledged=_unacknowledged())
        .order_by("-breaches", "team__name")
    ]
    by_policy = [
        CountRow(r["policy"], r["policy__name"], r["breaches"], r["unacknowledged"])
        for r in breaches.values("policy", "policy__name")
        .annotate(breaches=Count("id"), unacknowledged=_unacknowledged())
        .order_by("-breaches", "policy__name")
    ]
    days = list(
        breaches.annotate(day=TruncDate("due_at"))
        .values("day")
        .annotate(breaches=Count("id"), unacknowledged=_unacknowledged())
        .order_by("-day")[: DAYS_SHOWN + 1]
    )
    by_day = [
        CountRow(r["day"], r["day"].isoformat(), r["breaches"], r["unacknowledged"])
        for r in days[:DAYS_SHOWN]
    ]
    return BreachCounts(by_rep, by_team, by_policy, by_day, more_days=len(days) > DAYS_SHOWN)


# --- breach rate -----------------------------------------------------------------------------


@dataclass
class RateRow:
    rep_id: int | None
    label: str
    timed: int
    breached: int

    @property
    def rate(self) -> float:
        return self.breached / self.timed if self.timed else 0.0


def breach_rate_by_rep(
    items: QuerySet[WorkItem], *, start: datetime | None, end: datetime | None, now: datetime
) -> list[RateRow]:
    """Share of timed items due in the period (and by now) that breached, by the item's owner:
    one GROUP BY query. Items cancelled before their due time never could breach and are left
    out."""
    items = items.filter(policy__isnull=False, due_at__lte=now if end is None else min(end, now)).exclude(
        state=WorkItem.State.CANCELLED, breached_at__isnull=True
    )
    if start is not None:
        items = items.filter(due_at__gte=start)
    rows = (
        items.order_by()
        .values("owner", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(timed=Count("id"), breached=Count("id", filter=Q(breached_at__isnull=False)))
        .order_by("owner__first_name", "owner__last_name", "owner__username")
    )
    return [
        RateRow(
            r["owner"],
            _person(r["owner__first_name"], r["owner__last_name"], r["owner__username"]),
            r["timed"],
            r["breached"],
        )
        for r in rows
    ]


# --- speed to first touch --------------------------------------------------------------------


@dataclass
class SpeedRow:
    rep_id: int | None
    label: str
    touches: int
    median: timedelta | None
    p90: timedelta | None

    @property
    def median_text(self) -> str:
        return format_duration(self.median)

    @property
    def p90_text(self) -> str:
        return format_duration(self.p90)


@dataclass
class SpeedReport:
    by_rep: list[SpeedRow]
    overall: SpeedRow


def first_touches(
    items: QuerySet[WorkItem], *, start: datetime | None, end: datetime | None
) -> QuerySet[WorkItem]:
    """Done first-touch items completed in the period (served by the ``workitem_completed``
    index)."""
    items = items.filter(kind=WorkItem.Kind.FIRST_TOUCH, state=WorkItem.State.DONE)
    if start is not None:
        items = items.filter(completed_at__gte=start)
    if end is not None:
        items = items.filter(completed_at__lte=end)
    return items.order_by()


def speed_to_first_touch(
    items: QuerySet[WorkItem], *, start: datetime | None, end: datetime | None
) -> SpeedReport:
    """Median and 90th percentile of (first touch - timer start) by rep, and for everyone.

    PostgreSQL computes the percentiles itself (two queries). Other databases (SQLite, the
    zero-setup demo) have no ``percentile_cont``: there one query reads each rep's durations
    and Python interpolates them the same way; fine for a demo's data, not for production.
    """
    touches = first_touches(items, start=start, end=end)
    names = ("owner", "owner__first_name", "owner__last_name", "owner__username")
    if connection.vendor == "postgresql":
        duration = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
        stats = {
            "touches": Count("id"),
            "median": PercentileCont(duration, 0.5, output_field=DurationField()),
            "p90": PercentileCont(duration, 0.9, output_field=DurationField()),
        }
        rows = touches.values(*names).annotate(**stats).order_by("median", *names[1:])
        by_rep = [
            SpeedRow(r["owner"], _person(*(r[n] for n in names[1:])), r["touches"], r["median"], r["p90"])
            for r in rows
        ]
        total = touches.aggregate(**stats)
        overall = SpeedRow(None, "All reps", total["touches"], total["median"], total["p90"])
        return SpeedReport(by_rep, overall)

    durations: dict[int | None, list[timedelta]] = defaultdict(list)
    labels: dict[int | None, str] = {}
    for row in touches.values_list(*names, "created_at", "completed_at"):
        durations[row[0]].append(row[5] - row[4])
        labels[row[0]] = _person(*row[1:4])
    by_rep = sorted(
        (
            SpeedRow(rep, labels[rep], len(d), percentile_cont(d, 0.5), percentile_cont(d, 0.9))
            for rep, d in durations.items()
        ),
        key=lambda r: (r.median, r.label),
    )
    everyone = [d for ds in durations.values() for d in ds]
    overall = SpeedRow(
        None, "All reps", len(everyone), percentile_cont(everyone, 0.5), percentile_cont(everyone, 0.9)
    )
    return SpeedReport(by_rep, overall)
