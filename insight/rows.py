"""The rows behind each health number: a manager who reads "7 of 31 accepted opportunities were
lost early" clicks through to those 7.

The diagnoses (``insight.health``) count these very querysets, so a number and its rows can
never disagree. Each ``RowKind`` names its columns (a label and a dotted attribute path read
from each row, see ``cell``) and a ``queryset(scope, settings, now)`` with the
``select_related`` its columns need, so a page of rows costs a fixed number of queries.
The rows are the manager's (section ``health``): the page checks ``access.may_see`` first.

Rows are lead facts where the number is about leads (so filters by campaign, team, SDR... apply
as they do to the number), breaches, contracts, and the SDRs themselves for "starved".
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kit.counting import correlated_count
from leads.models import Lead
from leads.services import IN_SALES
from renewals.models import Contract
from team.models import Role, User
from work.models import Breach, WorkItem

from .models import HealthSettings, LeadFact
from .scope import Scope

SECTION = "health"

# Related rows every lead-fact table shows (lead, campaign, team, SDR, AE).
FACT_RELATED = ("lead", "campaign", "team", "sdr", "ae")


@dataclass(frozen=True)
class Column:
    label: str
    path: str  # dotted attribute path on the row ("lead.email", "open_leads")


@dataclass(frozen=True)
class RowKind:
    title: str
    columns: tuple[Column, ...]
    queryset: Callable[[Scope, HealthSettings, datetime], QuerySet]


def cell(row, path: str):
    """The value of ``path`` ("sdr.team.name") on ``row`` (the row itself for ""); None when a
    link on the way is empty."""
    value = row
    for name in filter(None, path.split(".")):
        if value is None:
            return None
        value = getattr(value, name)
    return value


# -- the querysets (the diagnoses count these) -------------------------------------------------


def during(scope: Scope, moment: str) -> Q:
    """``moment`` (a fact's field) falls in the period: the condition of a flow, as a ``Q`` so
    the diagnoses can count several flows in one statement."""
    return scope.period.contains(moment)


def accepted(scope: Scope) -> QuerySet[LeadFact]:
    """Opportunities accepted by an AE in the period (their leads' facts)."""
    return scope.moment_in_period("accepted_at")


def lost_early(settings: HealthSettings) -> Q:
    """Lost within ``early_loss_days`` of acceptance."""
    return Q(lost_at__isnull=False, lost_at__lte=F("accepted_at") + timedelta(days=settings.early_loss_days))


def early_losses(scope: Scope, settings: HealthSettings, now=None) -> QuerySet[LeadFact]:
    """Of the opportunities accepted in the period, those lost within ``early_loss_days`` of
    acceptance. Compared in SQL with the threshold of now, not the flag stored on the fact,
    so a change in the admin applies at once."""
    return (
        accepted(scope)
        .filter(lost_early(settings))
        .select_related(*FACT_RELATED)
        .order_by("-accepted_at", "lead_id")
    )


def _won_in(scope: Scope) -> Q:
    return during(scope, "won_at")


def _lost_in(scope: Scope) -> Q:
    return during(scope, "lost_at")


def closed(scope: Scope, settings: HealthSettings | None = None, now=None) -> QuerySet[LeadFact]:
    """Opportunities won or lost in the period."""
    return (
        scope.facts.filter(_won_in(scope) | _lost_in(scope))
        .select_related(*FACT_RELATED)
        .order_by(Coalesce("won_at", "lost_at").desc(), "lead_id")
    )


def handed_off(scope: Scope) -> QuerySet[LeadFact]:
    """Leads handed off to an AE in the period."""
    return scope.moment_in_period("handed_off_at")


REJECTED = Q(rejected_at__isnull=False)


def rejected(scope: Scope, settings: HealthSettings | None = None, now=None) -> QuerySet[LeadFact]:
    """Of the handoffs in the period, those an AE rejected."""
    return (
        handed_off(scope).filter(REJECTED).select_related(*FACT_RELATED).order_by("-handed_off_at", "lead_id")
    )


def _people_filters(filters: dict) -> dict:
    """The scope's filters that say which SDRs are meant (a team, an SDR, inbound or outbound),
    rewritten for the user table; filters about leads (campaign, channel...) do not narrow
    the people."""
    people = {}
    for key, value in filters.items():
        head, _, rest = key.partition("__")
        if head in ("team", "team_id"):
            people[key] = value
        elif head in ("sdr", "sdr_id") and rest in ("", "in", "pk", "id"):
            people["pk__in" if rest == "in" else "pk"] = value
        elif head == "origin" and not rest:
            people["role"] = Role.OUTBOUND_SDR if value == LeadFact.Origin.OUTBOUND else Role.INBOUND_SDR
    return people


def sdrs_taking_leads(scope: Scope) -> QuerySet[User]:
    """The SDRs in scope taking leads now: active, not away."""
    return User.objects.filter(
        is_active=True, is_away=False, role__in=(Role.INBOUND_SDR, Role.OUTBOUND_SDR)
    ).filter(**_people_filters(scope.filters))


def open_leads_of(**owner) -> QuerySet[Lead]:
    """The leads in sales (MQL or working) held by ``owner`` (``owner=`` or ``owner__in=``):
    what counts against an SDR's capacity."""
    return Lead.objects.filter(status__in=IN_SALES, **owner)


def open_work_of(owner) -> QuerySet[WorkItem]:
    return WorkItem.objects.filter(owner=owner, state=WorkItem.State.OPEN)


def active_sdrs(scope: Scope, settings: HealthSettings | None = None, now=None) -> QuerySet[User]:
    """The SDRs taking leads, with their open leads and open work items counted in SQL; the
    emptiest first."""

    return (
        sdrs_taking_leads(scope)
        .annotate(
            open_leads=correlated_count(open_leads_of(owner=OuterRef("pk")), "owner"),
            open_items=correlated_count(open_work_of(OuterRef("pk")), "owner"),
        )
        .select_related("team")
        .order_by("open_leads", "open_items", "username")
    )


def _lead_type() -> ContentType:
    return ContentType.objects.get_for_model(Lead)


def _first_touch_items(scope: Scope) -> QuerySet[WorkItem]:
    return WorkItem.objects.filter(kind=WorkItem.Kind.FIRST_TOUCH, content_type=_lead_type())


def routed(scope: Scope) -> QuerySet[LeadFact]:
    """Leads routed to a rep in the period (the first-touch clock started)."""
    return scope.moment_in_period("routed_at")


BREACHED = Q(first_touch_breached=True)


def breached_first_touch(scope: Scope | None = None) -> Q:
    """The lead's first-touch work item has a breach: the flag the facts store (an EXISTS into
    the work items per lead cost 0.4 s over a year of a million leads)."""
    return BREACHED


def slow_leads(scope: Scope, settings: HealthSettings | None = None, now=None) -> QuerySet[LeadFact]:
    """Of the leads routed in the period, those whose first-touch SLA was breached."""
    return (
        routed(scope)
        .filter(breached_first_touch(scope))
        .select_related(*FACT_RELATED)
        .order_by("-routed_at", "lead_id")
    )


def breach_weeks(scope: Scope, now) -> tuple[datetime, datetime, datetime]:
    """Last week's start, this week's start and this week's end (Mondays, aware, in the
    viewer's time zone). "This week" is the week of the period's last day, or of today when
    the period runs into the future."""
    tz = scope.period.tz
    day = min(scope.period.end, timezone.localtime(now, tz).date())
    monday = day - timedelta(days=day.weekday())

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time.min, tzinfo=tz)

    return midnight(monday - timedelta(days=7)), midnight(monday), midnight(monday + timedelta(days=7))


def breaches(scope: Scope, settings: HealthSettings | None = None, now=None) -> QuerySet[Breach]:
    """First-touch breaches of the leads in scope detected last week or this week."""
    now = now or timezone.now()
    last_week, _, week_end = breach_weeks(scope, now)
    items = _first_touch_items(scope).filter(object_id__in=scope.facts.values("lead_id"))
    return (
        Breach.objects.filter(work_item__in=items, detected_at__gte=last_week, detected_at__lt=week_end)
        .select_related("owner", "team", "policy", "work_item")
        .order_by("-detected_at", "-id")
    )


def _dropped_here(scope: Scope, days: int, now) -> QuerySet[LeadFact]:
    """Leads in a sales status (MQL or working) with no touch for ``days``: the last touch, or
    for a lead never touched, the moment it reached sales."""
    since = Coalesce("last_touch_at", "routed_at", "mql_at", "captured_at")
    return scope.facts.alias(quiet_since=since).filter(
        status__in=IN_SALES, quiet_since__lt=now - timedelta(days=days)
    )


def dropped(scope: Scope, settings: HealthSettings, now=None) -> QuerySet[LeadFact]:
    """Leads dropped on the floor: ``insight.funnel.dropped`` (the funnel page's rule) when it
    is there, the same rule here otherwise."""
    now = now or timezone.now()
    try:
        from .funnel import dropped as funnel_dropped
    except ImportError:
        rows = _dropped_here(scope, settings.dropped_days, now)
    else:
        rows = funnel_dropped(scope, settings.dropped_days, now=now)
    return rows.select_related(*FACT_RELATED).order_by(
        Coalesce("last_touch_at", "routed_at", "mql_at", "captured_at").asc(), "lead_id"
    )


def renewals(scope: Scope, settings: HealthSettings, now=None) -> QuerySet[Contract]:
    """Active contracts ending within ``renewal_days`` (from today in the viewer's zone) whose
    AM has logged no renewal conversation: of the contracts the viewer may see (the renewals
    app's rule: a manager their AM teams'); the lead filters do not apply to contracts."""
    now = now or timezone.now()
    today = timezone.localtime(now, scope.period.tz).date()
    return (
        Contract.objects.visible_to(scope.user)
        .filter(
            status=Contract.Status.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + timedelta(days=settings.renewal_days),
            renewal_activity_at__isnull=True,
        )
        .select_related("account", "account__account_manager")
        .order_by("end_date", "id")
    )


# -- the kinds the page renders --------------------------------------------------------------

LEAD = Column("Lead", "lead")
CAMPAIGN = Column("Campaign", "campaign")
SDR = Column("SDR", "sdr")
AE = Column("AE", "ae")

ROWS: dict[str, RowKind] = {
    "early_losses": RowKind(
        "Opportunities lost early",
        (
            LEAD,
            CAMPAIGN,
            SDR,
            AE,
            Column("Accepted", "accepted_at"),
            Column("Lost", "lost_at"),
            Column("Reason", "lost_reason"),
        ),
        early_losses,
    ),
    "win_rate": RowKind(
        "Opportunities closed",
        (
            LEAD,
            CAMPAIGN,
            SDR,
            AE,
            Column("Won", "won_at"),
            Column("Lost", "lost_at"),
            Column("Amount won", "won_amount"),
            Column("Reason lost", "lost_reason"),
        ),
        closed,
    ),
    "rejections": RowKind(
        "Handoffs rejected by an AE",
        (
            LEAD,
            CAMPAIGN,
            SDR,
            AE,
            Column("Handed off", "handed_off_at"),
            Column("Rejected", "rejected_at"),
            Column("Reason", "reject_reason"),
        ),
        rejected,
    ),
    "starved": RowKind(
        "Active SDRs and their open work",
        (
            Column("SDR", ""),
            Column("Team", "team"),
            Column("Open leads", "open_leads"),
            Column("Capacity", "capacity"),
            Column("Open work items", "open_items"),
        ),
        active_sdrs,
    ),
    "speed": RowKind(
        "Leads whose first touch breached its SLA",
        (
            LEAD,
            CAMPAIGN,
            SDR,
            Column("Routed", "routed_at"),
            Column("First touch", "first_touch_at"),
        ),
        slow_leads,
    ),
    "breaches": RowKind(
        "First-touch breaches, last week and this week",
        (
            Column("Work item", "work_item"),
            Column("Owner", "owner"),
            Column("Team", "team"),
            Column("Policy", "policy"),
            Column("Due", "due_at"),
            Column("Detected", "detected_at"),
        ),
        breaches,
    ),
    "dropped": RowKind(
        "Leads dropped on the floor",
        (
            LEAD,
            CAMPAIGN,
            SDR,
            Column("Status", "status"),
            Column("Routed", "routed_at"),
            Column("Last touch", "last_touch_at"),
        ),
        dropped,
    ),
    "renewals": RowKind(
        "Renewals without a conversation",
        (
            Column("Account", "account"),
            Column("Account manager", "account.account_manager"),
            Column("Ends", "end_date"),
            Column("Annual value", "annual_value"),
        ),
        renewals,
    ),
}


def scope_query(scope: Scope) -> str:
    """A query string for the scope (period and filters by id), used when the caller has no
    request's own query string to pass on."""
    params = {"start": scope.period.start.isoformat(), "end": scope.period.end.isoformat()}
    for key, value in scope.filters.items():
        params[key] = getattr(value, "pk", value)
    return urlencode(params, doseq=True)


def rows_url(kind: str, scope: Scope, query: str | None = None) -> str:
    """The page listing the rows of ``kind`` with the same period and filters."""
    try:
        path = reverse("insight:rows", args=[kind])
    except NoReverseMatch:  # the insight pages are not mounted (yet)
        path = f"/insight/rows/{kind}/"
    query = scope_query(scope) if query is None else query
    return f"{path}?{query}" if query else path
