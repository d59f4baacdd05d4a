"""Refinery health: a short list of diagnoses saying what to tune, each with the number behind
it, its threshold (``HealthSettings``, edited in the admin), one sentence with the figures and
a link to the rows behind it.

Every figure is counted in SQL by the rules in ``insight.rows`` (the very rows the link
lists), over the scope's facts: the period and the filters the manager chose. The flows the
checks count (accepted, won, lost, handed off, MQL, routed in the period) are ONE statement
(``tally``): a part per moment, each read from that moment's index alone, each count a
FILTER; the overview adds its own numbers to the same statement. ``diagnose`` runs a fixed number of
queries whatever the data.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connections
from django.db.models import Aggregate, Count, Exists, OuterRef, Q, Sum, Value
from django.utils import timezone

from team.models import Holiday, WorkingHours

from . import answers, rows
from .models import HealthSettings
from .scope import Scope
from .stats import rows_counted


@dataclass(frozen=True)
class Diagnosis:
    key: str  # also the kind of rows behind it (``insight.rows.ROWS``)
    title: str
    advice: str
    value: float | None  # the number behind it, in ``unit``; None when there was nothing to measure
    threshold: int
    unit: str
    triggered: bool
    detail: str  # one sentence with the figures
    link: str  # the rows behind the number
    reasons: tuple[tuple[str, int], ...] = ()  # (reason, count), most frequent first


def diagnose(
    scope: Scope,
    settings: HealthSettings | None = None,
    now=None,
    query: str | None = None,
    counts: dict | None = None,
) -> list[Diagnosis]:
    """Every check, the triggered ones first (in the order of ``CHECKS`` otherwise).

    ``query`` is the query string the links carry (the page passes its own, so the rows page
    opens with the same period and filters); by default it is built from the scope.
    ``counts``: ``tally(scope, settings)`` when the caller already ran it (the overview, with
    its own numbers in the same statement).

    The checks of the live tables (starved SDRs, speed's breaches this week, dropped leads,
    renewals) count as of ``now`` floored to the minute, and an answer is kept for that minute
    (``answers.recent_aggregate``): the managers of a team viewing the page count once."""
    settings = settings or HealthSettings.load()
    now = answers.minute(now or timezone.now())
    counts = counts if counts is not None else tally(scope, measures(scope, settings))

    def link(kind: str) -> str:
        return rows.rows_url(kind, scope, query)

    found = [check(scope, settings, now, link, counts) for check in CHECKS]
    return sorted(found, key=lambda d: not d.triggered)


# -- the flows, counted in one statement -------------------------------------------------------


def measures(scope: Scope, settings: HealthSettings) -> dict[str, dict[str, Aggregate]]:
    """What the checks count, by the moment in the period that makes a fact count (its flow),
    each count by the rule of the rows behind it (``insight.rows``)."""
    return {
        "accepted_at": {"accepted": rows_counted(), "lost_early": rows_counted(rows.lost_early(settings))},
        "won_at": {"won": rows_counted()},
        "lost_at": {"lost": rows_counted()},
        "handed_off_at": {"handed_off": rows_counted(), "rejected": rows_counted(rows.REJECTED)},
        "mql_at": {"mqls": rows_counted()},
        "routed_at": {"routed": rows_counted(), "slow": rows_counted(rows.BREACHED)},
    }


def merged(*groups: dict[str, dict[str, Aggregate]]) -> dict[str, dict[str, Aggregate]]:
    """Several callers' ``{moment: {name: aggregate}}`` as one (the overview adds its own)."""
    result: dict[str, dict[str, Aggregate]] = {}
    for group in groups:
        for moment, aggregates in group.items():
            result.setdefault(moment, {}).update(aggregates)
    return result


def tally(scope: Scope, groups: dict) -> dict:
    """``groups`` (``{moment: {name: aggregate}}``; a key may be ``(moment, Q)`` to narrow
    that part further) over the scope's facts in ONE statement: a part per moment, each an
    aggregate over the facts with that moment in the period, read from the moment's own
    index (``insight.models.keyed``: the filter columns and those the rules compare are keys
    of it, so PostgreSQL counts from the index alone) instead of every fact with any of the
    moments from the table. The parts are ``UNION ALL``-ed (PostgreSQL runs them side by
    side, a Parallel Append), each one row (an aggregate without GROUP BY), the names another
    part counts a typed NULL there."""
    connection = connections[scope.facts.db]
    quote = connection.ops.quote_name
    parts = []
    for i, (key, aggregates) in enumerate(groups.items()):
        moment, narrower = key if isinstance(key, tuple) else (key, Q())
        part = (
            scope.facts.filter(rows.during(scope, moment) & narrower)
            .order_by()
            .annotate(tally_part=Value(i))
            .values("tally_part")
            .annotate(**aggregates)
        )
        parts.append((part, list(aggregates)))
    resolved = {name: part.query.annotations[name] for part, names in parts for name in names}
    names = list(resolved)
    if len(names) != sum(len(names) for _, names in parts):
        raise ValueError("A name is counted over two moments.")
    statements: list[str] = []
    params: list = []
    for i, (part, own) in enumerate(parts):
        sql, part_params = part.query.sql_with_params()
        columns = [
            quote(name)
            if name in own
            else f"CAST(NULL AS {resolved[name].output_field.cast_db_type(connection)})"
            for name in names
        ]
        statements.append(f"SELECT {i} AS tally_part, {', '.join(columns)} FROM ({sql}) tally_{i}")
        params.extend(part_params)
    found: dict = {}
    _, records = answers.fetch(connection.alias, " UNION ALL ".join(statements), params, answers.of(scope))
    for record in records:
        own = parts[record[0]][1]
        found |= {name: value for name, value in zip(names, record[1:], strict=True) if name in own}
    return {name: _converted(found.get(name), resolved[name], connection) for name in names}


def _converted(value, expression, connection):
    """A value read by the raw statement as the ORM would return it (SQLite sums decimals as
    floats: Django's converters make them Decimals again)."""
    for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
        value = converter(value, expression, connection)
    return value


def all_clear(diagnoses: list[Diagnosis]) -> bool:
    """Whether nothing needs tuning (the page then says so)."""
    return not any(d.triggered for d in diagnoses)


def top(diagnoses: list[Diagnosis]) -> Diagnosis | None:
    """The diagnosis to lead with (the weekly summary's line), None when all is clear."""
    return next((d for d in diagnoses if d.triggered), None)


# -- arithmetic ----------------------------------------------------------------------------


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` (one decimal), None for an empty whole."""
    return round(100 * part / whole, 1) if whole else None


def above(part: int, whole: int, percent: int) -> bool:
    """Whether ``part`` is strictly more than ``percent``% of ``whole`` (exact, in integers:
    21 of 100 is above 20%, 20 of 100 is not)."""
    return whole > 0 and part * 100 > percent * whole


def pct(part: int, whole: int) -> str:
    value = 100 * part / whole
    return f"{value:.0f}%" if abs(value - round(value)) < 0.05 else f"{value:.1f}%"


def was(part: int, whole: int) -> str:
    """The verb for "<part> of <whole> ... was/were": "1 of 9 was", "0 of 1 was", "0 of 5 were"."""
    return "was" if part == 1 or whole == 1 else "were"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# -- the checks ----------------------------------------------------------------------------


def early_losses(scope, settings, now, link, counts) -> Diagnosis:
    whole, part = counts["accepted"], counts["lost_early"]
    days = settings.early_loss_days
    if whole:
        detail = (
            f"{part} of {plural(whole, 'accepted opportunity', 'accepted opportunities')} ({pct(part, whole)}) "
            f"{was(part, whole)} lost within {plural(days, 'day')} of acceptance."
        )
    else:
        detail = "No opportunity was accepted in the period."
    return Diagnosis(
        key="early_losses",
        title="Early losses",
        advice="Qualify harder: opportunities accepted then lost at once were not ready.",
        value=share(part, whole),
        threshold=settings.early_loss_percent,
        unit="%",
        triggered=above(part, whole, settings.early_loss_percent),
        detail=detail,
        link=link("early_losses"),
    )


def win_rate(scope, settings, now, link, counts) -> Diagnosis:
    won, whole = counts["won"], counts["won"] + counts["lost"]
    if whole:
        detail = (
            f"{won} of {plural(whole, 'opportunity', 'opportunities')} closed in the period "
            f"{was(won, whole)} won ({pct(won, whole)})."
        )
    else:
        detail = "No opportunity was won or lost in the period."
    return Diagnosis(
        key="win_rate",
        title="AE win rate",
        advice="The refinery may be too picky: potential growth is lost before it reaches the AEs.",
        value=share(won, whole),
        threshold=settings.win_rate_percent,
        unit="%",
        triggered=above(won, whole, settings.win_rate_percent),
        detail=detail,
        link=link("win_rate"),
    )


def rejections(scope, settings, now, link, counts) -> Diagnosis:
    whole, part = counts["handed_off"], counts["rejected"]
    top = (
        rows.rejected(scope)
        .order_by()
        .values("reject_reason")
        .annotate(n=rows_counted())
        .order_by("-n", "reject_reason")[:3]
    )
    reasons = tuple(
        (r["reject_reason"] or "No reason given", r["n"]) for r in answers.values(top, answers.of(scope))
    )
    if whole:
        detail = (
            f"{part} of {plural(whole, 'handoff')} in the period ({pct(part, whole)}) "
            f"{was(part, whole)} rejected by an AE."
        )
        if reasons:
            detail += " Top reasons: " + ", ".join(f"{reason} ({n})" for reason, n in reasons) + "."
    else:
        detail = "No lead was handed off in the period."
    return Diagnosis(
        key="rejections",
        title="AE rejections",
        advice='Sales and marketing disagree on what "qualified" means: agree on it again.',
        value=share(part, whole),
        threshold=settings.rejection_percent,
        unit="%",
        triggered=above(part, whole, settings.rejection_percent),
        detail=detail,
        link=link("rejections"),
        reasons=reasons,
    )


def working_days(scope: Scope) -> int:
    """Working days in the period in the viewer's team calendar (its weekdays with hours, less
    its holidays); Monday to Friday without a calendar."""
    team_id = getattr(scope.user, "team_id", None)
    period = scope.period
    weekdays = set(range(5))
    holidays: set[date] = set()
    if team_id:
        weekdays = (
            set(WorkingHours.objects.filter(calendar__teams=team_id).values_list("weekday", flat=True))
            or weekdays
        )
        holidays = set(
            Holiday.objects.filter(
                calendar__teams=team_id, date__gte=period.start, date__lte=period.end
            ).values_list("date", flat=True)
        )
    days = (period.start + timedelta(days=n) for n in range(period.days))
    return sum(1 for d in days if d.weekday() in weekdays and d not in holidays)


def starved(scope, settings, now, link, counts) -> Diagnosis:
    people = rows.sdrs_taking_leads(scope)
    team = answers.recent_aggregate(
        people,
        now,
        sdrs=Count("pk"),
        capacity=Sum("capacity"),
        idle=Count("pk", filter=~Q(Exists(rows.open_work_of(OuterRef("pk"))))),
    )
    sdrs, idle, capacity = team["sdrs"], team["idle"], team["capacity"] or 0
    open_leads = answers.recent_aggregate(rows.open_leads_of(owner__in=people), now, n=Count("*"))["n"]
    mqls = counts["mqls"]
    days = working_days(scope)
    if sdrs:
        rate = mqls / sdrs / days if days else 0.0
        detail = (
            f"{rate:.1f} new MQLs per SDR per working day ({mqls} over {plural(sdrs, 'active SDR')} "
            f"and {plural(days, 'working day')}); they hold {plural(open_leads, 'open lead')}, "
            f"{pct(open_leads, capacity) if capacity else '0%'} of their capacity of {capacity}"
        )
        detail += f", and {idle} of them {'has' if idle == 1 else 'have'} no open work." if idle else "."
    else:
        detail = "No SDR is taking leads."
    low = capacity > 0 and open_leads * 100 < settings.starved_percent * capacity
    return Diagnosis(
        key="starved",
        title="SDRs starved",
        advice="Marketing must feed more: the SDRs have room for more leads than they get.",
        value=share(open_leads, capacity),
        threshold=settings.starved_percent,
        unit="% of capacity",
        triggered=sdrs > 0 and (low or idle > 0),
        detail=detail,
        link=link("starved"),
    )


def speed(scope, settings, now, link, counts) -> Diagnosis:
    whole, part = counts["routed"], counts["slow"]
    _, this_week, _ = rows.breach_weeks(scope, now)
    weeks = answers.recent_aggregate(
        rows.breaches(scope, settings, now),
        now,
        last=Count("pk", filter=Q(detected_at__lt=this_week)),
        this=Count("pk", filter=Q(detected_at__gte=this_week)),
    )
    rising = weeks["this"] > weeks["last"]
    slow = above(part, whole, settings.slow_percent)
    if whole:
        detail = (
            f"{part} of {plural(whole, 'lead')} routed in the period ({pct(part, whole)}) "
            f"waited past their first-touch SLA"
        )
    else:
        detail = "No lead was routed in the period"
    detail += (
        f"; {plural(weeks['this'], 'first-touch breach', 'first-touch breaches')} this week, "
        f"{weeks['last']} last week."
    )
    return Diagnosis(
        key="speed",
        title="Speed to lead",
        advice="Leads go cold: answer them faster, or route them to reps who have time.",
        value=share(part, whole),
        threshold=settings.slow_percent,
        unit="%",
        triggered=slow or rising,
        detail=detail,
        link=link("breaches" if rising and not slow else "speed"),
    )


def dropped(scope, settings, now, link, counts) -> Diagnosis:
    n = answers.recent_aggregate(rows.dropped(scope, settings, now), now, n=Count("*"))["n"]
    days = settings.dropped_days
    return Diagnosis(
        key="dropped",
        title="Leads dropped on the floor",
        advice="Work them or let them go: a lead nobody touches is neither sold nor nurtured.",
        value=n,
        threshold=0,
        unit="leads",
        triggered=n > 0,
        detail=(
            f"{plural(n, 'lead')} in an SDR's hands {'has' if n == 1 else 'have'} had no touch "
            f"for {plural(days, 'day')} or more."
        ),
        link=link("dropped"),
    )


def renewals(scope, settings, now, link, counts) -> Diagnosis:
    n = answers.recent_aggregate(rows.renewals(scope, settings, now), now, n=Count("*"))["n"]
    days = settings.renewal_days
    return Diagnosis(
        key="renewals",
        title="Renewals without a conversation",
        advice="Call these customers: a renewal nobody has talked about is a churn risk.",
        value=n,
        threshold=0,
        unit="contracts",
        triggered=n > 0,
        detail=(
            f"{plural(n, 'contract')} ending within {plural(days, 'day')} "
            f"{'has' if n == 1 else 'have'} had no renewal conversation."
        ),
        link=link("renewals"),
    )


CHECKS = (early_losses, win_rate, rejections, starved, speed, dropped, renewals)
