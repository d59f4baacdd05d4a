"""The weekly summary: every Monday at 08:00 in a person's team time zone, one email about the
week that just ended (Monday to Sunday, local), whose first five lines tell the week for their
role; the details follow, with links. The same summary is shown in the browser
(``/insight/summary/``).

The numbers come from the insight modules the pages use (``funnel``, ``speed``, ``money``,
``retention``, ``health``) over a ``Scope`` for that person and that week, so the email says
what the pages say. A few numbers no page section owns (what waits in a queue or an inbox, a
manager's breaches, an AE's pipeline moved, an AM's renewals due) are counted here, in SQL.

Exactly once: before sending, the run claims a ``WeeklySummary`` row per person and week with
``INSERT .. ON CONFLICT DO NOTHING RETURNING`` (unique per person and week), and only the
claimer sends; the row is then marked sent, or failed with the reason (a failed send is tried
again by the next hourly run while the week is still fresh). Two workers, or a run repeated
every hour, send each person one email a week.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Opportunity, OpportunityEvent
from renewals.models import Contract
from team.models import BusinessCalendar, Role, Team, User
from work.metrics import format_duration
from work.models import Breach, WorkItem

from .models import HealthSettings, SummaryPreference, WeeklySummary
from .scope import Period, Scope, viewer_tz

logger = logging.getLogger(__name__)

SEND_AT = time(8)
# A run missed on Monday (the beat was down) still sends on Tuesday; later than that the week
# is old news, and someone who joined mid-week does not get the week before they came.
SEND_WITHIN = timedelta(days=2)
CLAIM_BATCH = 100
DETAIL_ROWS = 10

# Who gets a summary: every role that works in Refinery; not the integration service account.
ROLES = (Role.MANAGER, Role.INBOUND_SDR, Role.OUTBOUND_SDR, Role.AE, Role.AM, Role.MARKETING)

# --- when ------------------------------------------------------------------------------------


def last_week(now: datetime, tz: ZoneInfo) -> date:
    """The Monday of the last full week (Monday to Sunday, local) before ``now``."""
    today = now.astimezone(tz).date()
    return today - timedelta(days=today.weekday() + 7)


def due_week(now: datetime, tz: ZoneInfo) -> date | None:
    """The Monday of the week whose summary is due at ``now`` in ``tz``: from Monday 08:00
    local for ``SEND_WITHIN``; None outside that window (before 08:00 nothing is due)."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    send_at = datetime.combine(monday, SEND_AT, tzinfo=tz)
    if send_at <= now < send_at + SEND_WITHIN:
        return monday - timedelta(days=7)
    return None


def receives(user) -> bool:
    """Whether ``user`` has a weekly summary at all (their role; active)."""
    return user.is_authenticated and user.is_active and user.role in ROLES


def wants(user) -> bool:
    """Whether ``user`` has left the weekly email on (the default)."""
    return not SummaryPreference.objects.filter(user=user, weekly_summary=False).exists()


def set_preference(*, user: User, on: bool) -> SummaryPreference:
    """Turn ``user``'s weekly email on or off."""
    preference, _ = SummaryPreference.objects.update_or_create(user=user, defaults={"weekly_summary": on})
    return preference


# --- what ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One of the first five lines: a label and the number, with the page behind it."""

    label: str
    value: str
    link: str = ""

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


@dataclass(frozen=True)
class Row:
    text: str
    link: str = ""


@dataclass
class Section:
    """A block of the details below the five lines."""

    title: str
    rows: list[Row] = field(default_factory=list)
    link: str = ""
    link_text: str = ""
    empty: str = "Nothing this week."


@dataclass
class Summary:
    """One person's week: the five lines, then the details. Paths are site-relative; the
    email puts ``SITE_URL`` in front of them."""

    user: User
    period: Period
    lines: list[Line]
    sections: list[Section]
    as_of: datetime

    @property
    def subject(self) -> str:
        start, end = self.period.start, self.period.end
        return f"[Refinery] Your week, {start:%-d %b} to {end:%-d %b %Y}"

    def context(self, site: str) -> dict:
        return {
            "summary": self,
            "site": site,
            "page": _path("insight:summary", "/insight/summary/"),
            "as_of": self.as_of.astimezone(self.period.tz),
        }

    def text(self, site: str) -> str:
        return render_to_string("insight/email/summary.txt", self.context(site))

    def html(self, site: str) -> str:
        return render_to_string("insight/email/summary.html", self.context(site))


def money(amount) -> str:
    """An amount as people read it on a phone: whole units when it is whole."""
    amount = Decimal(amount or 0)
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}"


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit.startswith("%") else f" {unit}"


def _path(name: str, fallback: str, *args) -> str:
    """A page's path by its URL name (the fallback while the page is not mounted)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _insight() -> str:
    return _path("insight:overview", "/insight/")


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
    from . import funnel

    return {row.key: row for row in funnel.flow(scope)}


def _speed_line(scope: Scope) -> Line:
    """Median and 90th percentile of capture (or routing) to first touch, wall clock, over
    the leads first touched in the week."""
    from . import speed

    rows = speed.speed(scope)
    row = rows[0] if rows else None
    if row is None or not row.touches:
        return Line("Speed to lead", "no first touch this week", _insight())
    return Line(
        "Speed to lead",
        f"{format_duration(row.median)} median, 90% within {format_duration(row.p90)}",
        _insight(),
    )


def _sum(queryset, field_name: str) -> Decimal:
    return queryset.aggregate(total=Sum(field_name))["total"] or Decimal(0)


def _manager(user, scope: Scope, now: datetime) -> tuple[list[Line], list[Section]]:
    from . import health

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
    breaches_path = _path("work:breaches", "/work/breaches/")
    if top is not None:
        top_line = Line(
            "Top diagnosis",
            f"{top.title} ({_number(top.value)}{_unit(top.unit)}, threshold "
            f"{_number(top.threshold)}{_unit(top.unit)})",
            top.link or _insight(),
        )
    else:
        top_line = Line("Top diagnosis", "nothing is wrong", _insight())
    lines = [
        Line("Qualified opportunities", _number(flow["accepted"].count), _insight()),
        Line("Qualified pipeline", money(_sum(accepted, "accepted_amount")), _insight()),
        _speed_line(scope),
        Line("SLA breaches", f"{breaches['this']:,} ({breaches['before']:,} the week before)", breaches_path),
        top_line,
    ]
    sections = [
        Section(
            "The funnel this week (what happened, whatever the capture date)",
            [Row(f"{row.label}: {row.count:,}") for row in flow.values()],
            _insight(),
            "The funnel",
        ),
        Section(
            "Diagnoses",
            [Row(f"{d.title}: {d.detail} {d.advice}", d.link or _insight()) for d in triggered],
            _insight(),
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
    queue = _path("sdr:queue", "/queue/")
    lines = [
        Line("Handoffs accepted", _number(flow["accepted"].count), _insight()),
        Line("Handoffs rejected", _number(rejected.count()), _insight()),
        _speed_line(scope),
        Line(
            "Waiting",
            f"{_count(counts['all'], 'open item')} in your queue ({counts['late']:,} past due)",
            queue,
        ),
        Line("Leads worked (first touch)", _number(flow["worked"].count), _insight()),
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
            _insight(),
            "Your conversion",
            empty="No handoff was rejected this week.",
        ),
        Section(
            "Waiting in your queue (soonest due first)",
            [
                Row(
                    f"{item.title} (due {item.due_at.astimezone(scope.period.tz):%a %-d %b %H:%M %Z})",
                    _path("sdr:item", queue, item.pk),
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
    inbox_path = _path("accounts:inbox", "/inbox/")
    pipeline_path = _path("accounts:pipeline", "/pipeline/")
    lines = [
        Line(
            "Accepted", f"{flow['accepted'].count:,} ({money(_sum(accepted, 'accepted_amount'))})", _insight()
        ),
        Line("Waiting", f"{_count(inbox.count(), 'handoff')} awaiting you", inbox_path),
        Line(
            "Pipeline moved",
            f"{_count(moved['n'], 'opportunity', 'opportunities')} ({money(moved['amount'])})",
            pipeline_path,
        ),
        Line("Wins", f"{flow['won'].count:,} ({money(_sum(won, 'won_amount'))})", pipeline_path),
        Line("Rejected", _number(scope.moment_in_period("rejected_at").count()), _insight()),
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
                    f"{o.name} (handed off {o.handed_off_at.astimezone(scope.period.tz):%a %-d %b %H:%M %Z})",
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
    renewals = _path("renewals:renewals", "/renewals/")
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
        Line("Renewed this week", _number(outcomes["renewed"]), renewals),
        Line(
            "Churned this week",
            f"{outcomes['churned']:,} ({money(outcomes['churned_value'])} a year)",
            _insight(),
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
    from . import money as money_module

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
            _insight(),
        )
    ]
    for r in ranked[:3]:
        each = money(r.cost_per_qualified) if r.cost_per_qualified is not None else "—"
        lines.append(Line(r.label, f"{each} per qualified ({r.qualified:,} qualified)", _insight()))
    lines.append(Line("Leads captured", f"{total.leads:,} ({total.mqls:,} MQLs)", _insight()))
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
            _insight(),
            "Money by campaign",
        ),
    ]
    return lines, sections


# --- sending ---------------------------------------------------------------------------------


@dataclass
class SummaryRun:
    claimed: int = 0
    sent: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed}


_T_USER = User._meta.db_table
_T_TEAM = Team._meta.db_table
_T_CALENDAR = BusinessCalendar._meta.db_table
_T_PREFERENCE = SummaryPreference._meta.db_table
_T_SUMMARY = WeeklySummary._meta.db_table

# The people of one time zone who get a summary: active, with a role, an address, not opted
# out. Users without a team count as UTC.
_RECIPIENTS_SQL = f"""
SELECT u.id FROM {_T_USER} AS u
LEFT JOIN {_T_TEAM} AS t ON t.id = u.team_id
LEFT JOIN {_T_CALENDAR} AS cal ON cal.id = t.calendar_id
WHERE u.is_active = %(yes)s AND u.role IN ({", ".join(f"%(role{i})s" for i in range(len(ROLES)))})
  AND u.email <> '' AND COALESCE(cal.timezone, 'UTC') = %(zone)s
  AND NOT EXISTS (
    SELECT 1 FROM {_T_PREFERENCE} AS p WHERE p.user_id = u.id AND p.weekly_summary = %(no)s
  )
"""

# Claim a batch: insert the rows; only the rows this statement inserted come back, so two
# runs at once never both send. The same SQL on PostgreSQL and SQLite (3.35+).
_CLAIM_SQL = f"""
INSERT INTO {_T_SUMMARY} (user_id, week, state, claimed_at, subject, failure)
SELECT r.id, %(week)s, 'claimed', %(now)s, '', '' FROM ({_RECIPIENTS_SQL}) AS r
WHERE NOT EXISTS (SELECT 1 FROM {_T_SUMMARY} AS s WHERE s.user_id = r.id AND s.week = %(week)s)
ORDER BY r.id
LIMIT %(limit)s
ON CONFLICT (user_id, week) DO NOTHING
RETURNING user_id
"""

# Take back the failed sends of the week (a conditional UPDATE: one run wins each row).
_RECLAIM_SQL = f"""
UPDATE {_T_SUMMARY} SET state = 'claimed', claimed_at = %(now)s, failure = ''
WHERE week = %(week)s AND state = 'failed' AND user_id IN ({_RECIPIENTS_SQL})
RETURNING user_id
"""


def _params(zone: str, week: date, now: datetime, limit: int = CLAIM_BATCH) -> dict:
    params = {"zone": zone, "week": week, "now": now, "limit": limit, "yes": True, "no": False}
    params.update({f"role{i}": role.value for i, role in enumerate(ROLES)})
    return params


def _claim(zone: str, week: date, now: datetime, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, _params(zone, week, now, limit))
        return [row[0] for row in cursor.fetchall()]


def _reclaim_failed(zone: str, week: date, now: datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_RECLAIM_SQL, _params(zone, week, now))
        return [row[0] for row in cursor.fetchall()]


def _zones() -> list[str]:
    """Every time zone a team works in, and UTC (people without a team)."""
    zones = set(BusinessCalendar.objects.filter(teams__isnull=False).values_list("timezone", flat=True))
    return sorted(zones | {"UTC"})


def message(summary: Summary) -> EmailMultiAlternatives:
    """The email: plain text, and the same in HTML."""
    site = settings.SITE_URL.rstrip("/")
    email = EmailMultiAlternatives(subject=summary.subject, body=summary.text(site), to=[summary.user.email])
    email.attach_alternative(summary.html(site), "text/html")
    return email


def _finish(user_id: int, week: date, *, subject: str = "", failure: str = "") -> None:
    rows = WeeklySummary.objects.filter(user_id=user_id, week=week, state=WeeklySummary.State.CLAIMED)
    if failure:
        rows.update(state=WeeklySummary.State.FAILED, failure=failure[:500])
    else:
        rows.update(state=WeeklySummary.State.SENT, sent_at=timezone.now(), subject=subject[:200])


def _send(user_ids: list[int], week: date, now: datetime, run: SummaryRun) -> None:
    """Build and send the claimed summaries, marking each sent or failed with the reason."""
    users = list(User.objects.filter(pk__in=user_ids).select_related("team__calendar").order_by("pk"))
    run.claimed += len(users)
    try:
        mail_connection = get_connection(fail_silently=False)
        mail_connection.open()
    except Exception as exc:
        logger.exception("The mail server refused the weekly summaries of %d people", len(users))
        for user in users:
            _finish(user.pk, week, failure=f"Mail server: {exc}")
        run.failed += len(users)
        return
    try:
        for user in users:
            try:
                email = message(build(user, week, now=now))
                mail_connection.send_messages([email])
            except Exception as exc:
                logger.exception("Weekly summary of user %s for %s not sent", user.pk, week)
                _finish(user.pk, week, failure=f"{type(exc).__name__}: {exc}")
                run.failed += 1
            else:
                _finish(user.pk, week, subject=email.subject)  # type: ignore[arg-type]  # the str the summary set
                run.sent += 1
    finally:
        mail_connection.close()


def send_due(*, now: datetime | None = None, batch_size: int = CLAIM_BATCH) -> SummaryRun:
    """The hourly task: in every time zone where Monday 08:00 has come (and the week is still
    fresh), claim and send the summary of the week that ended to each person who has not had
    it. Safe to run as often as you like and on several workers at once."""
    now = now or timezone.now()
    run = SummaryRun()
    for zone in _zones():
        week = due_week(now, ZoneInfo(zone))
        if week is None:
            continue
        retry = _reclaim_failed(zone, week, now)
        if retry:
            _send(retry, week, now, run)
        while claimed := _claim(zone, week, now, batch_size):
            _send(claimed, week, now, run)
    return run
