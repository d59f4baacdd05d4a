"""Each role's week: the five lines and the sections below them, for a manager, an SDR, an AE,
an AM and marketing. The numbers come from the modules the insight pages use, over a
``Scope`` for that person and week; what no page section owns (a queue's or an inbox's
waiting items, a manager's breaches, an AE's pipeline moved, an AM's renewals due) is counted
here, in SQL."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from accounts.models import Opportunity, OpportunityEvent
from kit.display import when_text
from renewals.models import Contract
from team.models import Role, User
from work.metrics import format_duration
from work.models import Breach, WorkItem

from ..models import HealthSettings
from ..scope import Period, Scope, viewer_tz
from .rendering import (
    Line,
    Row,
    Section,
    Summary,
    money,
    number,
    overview_path,
    page_path,
    plural,
    unit_suffix,
)

DETAIL_ROWS = 10


def build(user: User, week: date, *, now: datetime | None = None) -> Summary:
    """``user``'s summary of the week starting on the Monday ``week`` (their team time zone),
    as of ``now`` (what waits, and what is due, is counted at that moment)."""
    now = now or timezone.now()
    period = Period.week_of(week, viewer_tz(user))
    scope = Scope.for_user(user, period)
    builder = {
        Role.MANAGER: _manager,
        Role.INBOUND_SDR: _sdr,
        Role.OUTBOUND_SDR: _sdr,
        Role.AE: _ae,
        Role.AM: _am,
        Role.MARKETING: _marketing,
    }[user.role]  # type: ignore[index]  # a role's value indexes as its member
    lines, sections = builder(user, scope, now)
    return Summary(user=user, period=period, lines=lines, sections=sections, as_of=now)


def _flow(scope: Scope) -> dict:
    from .. import funnel

    return {row.key: row for row in funnel.flow(scope)}


def _speed_line(scope: Scope) -> Line:
    """Median and 90th percentile of capture (or routing) to first touch, wall clock, over
    the leads first touched in the week."""
    from .. import speed

    rows = speed.speed(scope)
    row = rows[0] if rows else None
    if row is None or not row.touches:
        return Line("Speed to lead", "no first touch this week", overview_path())
    return Line(
        "Speed to lead",
        f"{format_duration(row.median)} median, 90% within {format_duration(row.p90)}",
        overview_path(),
    )


def _sum(queryset, field_name: str) -> Decimal:
    return queryset.aggregate(total=Sum(field_name))["total"] or Decimal(0)


def _manager(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    from .. import health

    flow = _flow(scope)
    accepted = scope.moment_in_period("accepted_at")
    period = scope.period
    before = Period.week_of(period.start - timedelta(days=7), period.tz)
    breaches = Breach.objects.visible_to(user).aggregate(
        this=Count("pk", filter=period.contains("due_at")),
        before=Count("pk", filter=before.contains("due_at")),
    )
    diagnoses = health.diagnose(scope, now=now)
    triggered = [d for d in diagnoses if d.triggered]
    top = health.top(diagnoses)
    breaches_path = page_path("work:breaches", "/work/breaches/")
    if top is not None:
        top_line = Line(
            "Top diagnosis",
            f"{top.title} ({number(top.value)}{unit_suffix(top.unit)}, threshold "
            f"{number(top.threshold)}{unit_suffix(top.unit)})",
            top.link or overview_path(),
        )
    else:
        top_line = Line("Top diagnosis", "nothing is wrong", overview_path())
    lines = [
        Line("Qualified opportunities", number(flow["accepted"].count), overview_path()),
        Line("Qualified pipeline", money(_sum(accepted, "accepted_amount")), overview_path()),
        _speed_line(scope),
        Line("SLA breaches", f"{breaches['this']:,} ({breaches['before']:,} the week before)", breaches_path),
        top_line,
    ]
    sections = [
        Section(
            "The funnel this week (what happened, whatever the capture date)",
            [Row(f"{row.label}: {row.count:,}") for row in flow.values()],
            overview_path(),
            "The funnel",
        ),
        Section(
            "Diagnoses",
            [Row(f"{d.title}: {d.detail} {d.advice}", d.link or overview_path()) for d in triggered],
            overview_path(),
            "Refinery health",
            empty="Nothing is wrong: every number is within its threshold.",
        ),
        Section(
            "SLA breaches",
            [Row(f"{breaches['this']:,} this week, {breaches['before']:,} the week before")],
            breaches_path,
            "Review breaches",
        ),
    ]
    return lines, sections


def _sdr(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    flow = _flow(scope)
    rejected = scope.moment_in_period("rejected_at")
    waiting = WorkItem.objects.open().filter(owner=user)
    counts = waiting.aggregate(
        all=Count("pk"), late=Count("pk", filter=Q(breached_at__isnull=False) | Q(due_at__lte=now))
    )
    queue = page_path("sdr:queue", "/queue/")
    lines = [
        Line("Handoffs accepted", number(flow["accepted"].count), overview_path()),
        Line("Handoffs rejected", number(rejected.count()), overview_path()),
        _speed_line(scope),
        Line(
            "Waiting",
            f"{plural(counts['all'], 'open item')} in your queue ({counts['late']:,} past due)",
            queue,
        ),
        Line("Leads worked (first touch)", number(flow["worked"].count), overview_path()),
    ]
    reasons = (
        rejected.exclude(reject_reason="")
        .values("reject_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reject_reason")
    )
    items = waiting.order_by("due_at", "pk")[:DETAIL_ROWS]
    sections = [
        Section(
            "Why handoffs were rejected",
            [Row(f"{r['reject_reason']}: {r['n']:,}") for r in reasons],
            overview_path(),
            "Your conversion",
            empty="No handoff was rejected this week.",
        ),
        Section(
            "Waiting in your queue (soonest due first)",
            [
                Row(
                    f"{item.title} (due {when_text(item.due_at, scope.period.tz)})",
                    page_path("sdr:item", queue, item.pk),
                )
                for item in items
            ],
            queue,
            "Your queue",
            empty="Nothing is waiting.",
        ),
    ]
    return lines, sections


def _moved(user, period: Period):
    """The AE's opportunities that moved in the week: accepted, moved to another stage, won or
    lost (an ``OpportunityEvent`` of those kinds in the week). Their amount is what they are
    worth now."""
    moves = OpportunityEvent.objects.filter(
        opportunity=OuterRef("pk"),
        kind__in=[
            OpportunityEvent.Kind.ACCEPTED,
            OpportunityEvent.Kind.STAGE,
            OpportunityEvent.Kind.WON,
            OpportunityEvent.Kind.LOST,
        ],
        at__gte=period.start_at,
        at__lt=period.end_at,
    )
    return Opportunity.objects.filter(Exists(moves), owner=user)


def _ae(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    flow = _flow(scope)
    accepted = scope.moment_in_period("accepted_at")
    won = scope.moment_in_period("won_at")
    inbox = Opportunity.objects.inbox().filter(owner=user)
    moved = _moved(user, scope.period).aggregate(n=Count("pk"), amount=Sum("amount"))
    inbox_path = page_path("accounts:inbox", "/inbox/")
    pipeline_path = page_path("accounts:pipeline", "/pipeline/")
    lines = [
        Line(
            "Accepted",
            f"{flow['accepted'].count:,} ({money(_sum(accepted, 'accepted_amount'))})",
            overview_path(),
        ),
        Line("Waiting", f"{plural(inbox.count(), 'handoff')} awaiting you", inbox_path),
        Line(
            "Pipeline moved",
            f"{plural(moved['n'], 'opportunity', 'opportunities')} ({money(moved['amount'])})",
            pipeline_path,
        ),
        Line("Wins", f"{flow['won'].count:,} ({money(_sum(won, 'won_amount'))})", pipeline_path),
        Line("Rejected", number(scope.moment_in_period("rejected_at").count()), overview_path()),
    ]
    waiting = inbox.order_by("handed_off_at", "pk")[:DETAIL_ROWS]
    wins = (
        Opportunity.objects.filter(owner=user, status=Opportunity.Status.WON)
        .filter(scope.period.contains("closed_at"))
        .order_by("closed_at", "pk")[:DETAIL_ROWS]
    )
    sections = [
        Section(
            "Handoffs awaiting you (oldest first)",
            [
                Row(
                    f"{o.name} (handed off {when_text(o.handed_off_at, scope.period.tz)})",
                    o.get_absolute_url(),
                )
                for o in waiting
            ],
            inbox_path,
            "Your inbox",
            empty="No handoff is waiting.",
        ),
        Section(
            "Won this week",
            [Row(f"{o.name}: {money(o.amount)}", o.get_absolute_url()) for o in wins],
            pipeline_path,
            "Your pipeline",
        ),
    ]
    return lines, sections


def _am(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    """Renewals due in the next 30 days (with those past their end still open, as the
    renewals page's first bucket) and in 31 to 60 days, counted from the local day of
    ``now``; at risk: ending within the health threshold's days with no conversation."""
    today = now.astimezone(scope.period.tz).date()
    risk_days = HealthSettings.load().renewal_days
    book = Contract.objects.active().filter(account__account_manager=user)
    soon = Q(end_date__lte=today + timedelta(days=30))
    later = Q(end_date__gt=today + timedelta(days=30), end_date__lte=today + timedelta(days=60))
    risky = Q(end_date__lte=today + timedelta(days=risk_days), renewal_activity_at__isnull=True)
    totals = book.aggregate(
        soon=Count("pk", filter=soon),
        soon_value=Sum("annual_value", filter=soon),
        later=Count("pk", filter=later),
        later_value=Sum("annual_value", filter=later),
        risk=Count("pk", filter=risky),
        risk_value=Sum("annual_value", filter=risky),
    )
    closed = Contract.objects.filter(account__account_manager=user).filter(scope.period.contains("closed_at"))
    outcomes = closed.aggregate(
        renewed=Count("pk", filter=~Q(outcome=Contract.Outcome.CHURNED)),
        churned=Count("pk", filter=Q(outcome=Contract.Outcome.CHURNED)),
        churned_value=Sum("annual_value", filter=Q(outcome=Contract.Outcome.CHURNED)),
    )
    renewals = page_path("renewals:renewals", "/renewals/")
    lines = [
        Line(
            "Renewals in the next 30 days",
            f"{totals['soon']:,} ({money(totals['soon_value'])} a year)",
            renewals,
        ),
        Line(
            "Renewals in 31 to 60 days",
            f"{totals['later']:,} ({money(totals['later_value'])} a year)",
            renewals,
        ),
        Line(
            "At risk",
            f"{totals['risk']:,} ending within {risk_days} days with no conversation "
            f"({money(totals['risk_value'])} a year)",
            renewals,
        ),
        Line("Renewed this week", number(outcomes["renewed"]), renewals),
        Line(
            "Churned this week",
            f"{outcomes['churned']:,} ({money(outcomes['churned_value'])} a year)",
            overview_path(),
        ),
    ]
    due = (
        book.filter(end_date__lte=today + timedelta(days=60))
        .select_related("account")
        .order_by("end_date", "pk")[:DETAIL_ROWS]
    )
    rows = []
    for c in due:
        silent = c.renewal_activity_at is None and c.end_date <= today + timedelta(days=risk_days)
        flag = ", no conversation yet" if silent else ""
        rows.append(
            Row(
                f"{c.account.name}: ends {c.end_date:%-d %b %Y}, {money(c.annual_value)} a year{flag}",
                c.get_absolute_url(),
            )
        )
    sections = [
        Section("Renewals due in the next 60 days", rows, renewals, "Your renewals", empty="None due."),
    ]
    return lines, sections


def _marketing(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    """Cost per qualified opportunity overall, then for the three campaigns with the most
    qualified opportunities this week (the cheaper first on a tie)."""
    from .. import money as money_module

    total = money_module.total(scope)
    rows = money_module.by_campaign(scope)
    ranked = sorted(
        (r for r in rows if r.qualified),
        key=lambda r: (
            -r.qualified,
            r.cost_per_qualified if r.cost_per_qualified is not None else 0,
            r.label,
        ),
    )
    per = total.cost_per_qualified
    lines = [
        Line(
            "Cost per qualified opportunity",
            f"{money(per) if per is not None else '—'} ({total.qualified:,} qualified, spend {money(total.spend)})",
            overview_path(),
        )
    ]
    for r in ranked[:3]:
        each = money(r.cost_per_qualified) if r.cost_per_qualified is not None else "—"
        lines.append(Line(r.label, f"{each} per qualified ({r.qualified:,} qualified)", overview_path()))
    # The cohort's count, as the money page counts it: an imported lead is new in the week its
    # source first saw the person, not in the week of the import.
    lines.append(Line("New leads (first seen)", f"{total.leads:,} ({total.mqls:,} MQLs)", overview_path()))
    sections = [
        Section(
            "By campaign: spend, leads, qualified, cost per qualified",
            [
                Row(
                    f"{r.label}: spend {money(r.spend)}, {r.leads:,} leads, {r.qualified:,} qualified, "
                    f"{money(r.cost_per_qualified) if r.cost_per_qualified is not None else '—'} per qualified"
                )
                for r in rows
            ],
            overview_path(),
            "Money by campaign",
        ),
    ]
    return lines, sections
