"""The speed page's tables: speed to lead by rep, team, channel and week, conversion by time
to first touch, and SLA breaches per week."""

from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek

from work.models import Breach

from .. import access, charts
from ..filters import breach_lookups
from ..scope import Scope
from .formatting import NO_LEADS, count, duration, percent
from .table import Table, cells

SPEED_BY = {"rep": "Rep", "team": "Team", "channel": "Channel", "week": "Week starting"}


def _speed_page(scope: Scope, wanted) -> dict:
    """The speed page's fact tables the viewer sees, asked in one statement the first time
    one of them is built (``speed.measure`` remembers the answers on the scope)."""
    from .. import speed
    from .registry import tables_for  # the registry lists this module's tables: asked at call time

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
    from .. import speed

    rows = speed.speed(scope)
    return rows[0] if rows else None


def decay_table(scope: Scope) -> Table:
    from .. import speed

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
        note="The leads first seen in the period, by how long their first touch took (counted from their capture into Refinery).",
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
