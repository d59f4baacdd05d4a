"""The account manager's pages: the renewals coming due, a customer account, one contract.
Thin: authorize, call one service, render.

Who sees what: AMs their own accounts, a manager those of the AM teams they run, superusers
everything; marketing reads accounts and contracts (imports are theirs) but works none. AEs
and SDRs see no renewals (403). An account or contract that is not the user's is a 404, so
ids do not leak who the customers are.

Forms post plainly and redirect back with a message; the contract's two forms may also post
with htmx and get the renewal panel back. A refusal renders the form with its errors: 400 for
bad input, 409 for a state that refuses (already renewed), as on the AE's pages.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import is_own_upsell, sees_opportunities
from accounts.forms import add_refusal
from accounts.models import Account, Contact, Opportunity, OpportunityEvent
from kit.htmx import is_htmx
from kit.pages import local_text as _local_text
from kit.pages import money_text as _money
from kit.pages import query_string as _query
from leads.models import ScoringSettings
from leads.scoring import threshold_key
from sdr.views import sla_display
from team.access import managed_teams
from team.models import Role, User
from team.zones import user_zone as _team_timezone
from work.models import WorkItem

from . import services
from .expansion import expansion_items_for
from .forms import AssignForm, ContractForm, ConversationForm, OutcomeForm
from .models import AccountEvent, Contract, RenewalSettings
from .services import RENEWAL_ITEM_KINDS, RenewalsError, can_manage_accounts, may_work_account

HORIZON_DAYS = 90
BUCKETS = ((30, "Due in 30 days"), (60, "Due in 31-60 days"), (90, "Due in 61-90 days"))
# Rows a bucket shows on the overview, most urgent first; the rest are a click away, a page of
# the bucket each. 50 a bucket rendered 150 rows (129 KiB): 101 ms at p95 for an AM with 2,563
# contracts, four fifths of it Python and template.
ROWS_PER_BUCKET = 20
# What the account page lists at most: an account has a term a year and a handful of people,
# so the caps only bound a page nobody could read anyway.
CONTRACTS_LIMIT = 100
CONTACTS_LIMIT = 100
OPPORTUNITIES_LIMIT = 50
TIMELINE_LIMIT = 50


# --- who may see what -----------------------------------------------------------------------


def _reads_accounts(user) -> bool:
    """AMs, their managers and superusers work customer accounts; marketing reads them."""
    return can_manage_accounts(user) or user.role == Role.MARKETING


def _checked(user, account: Account) -> bool:
    """Whether ``user`` may work ``account``; 404 when they may not even read it."""
    may_work = may_work_account(user, account)
    if not may_work and not (user.is_superuser or user.role == Role.MARKETING):
        raise Http404("No such account.")
    return may_work


def _account_for(user, pk) -> tuple[Account, bool]:
    """The account and whether the user may work it: 403 for roles that never see customer
    accounts (AEs, SDRs), 404 for one that is missing or not theirs."""
    if not _reads_accounts(user):
        raise PermissionDenied("Customer accounts are the account managers'.")
    try:
        account = Account.objects.select_related("account_manager__team").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such account.") from None
    return account, _checked(user, account)


def _contract_for(user, pk) -> tuple[Contract, bool]:
    """The contract (with what its page shows) and whether the user may work it."""
    if not _reads_accounts(user):
        raise PermissionDenied("Contracts are the account managers'.")
    try:
        contract = Contract.objects.select_related(
            "account__account_manager__team", "renewal__stage", "renewal__owner", "renewed_from", "renewed_by",
            "created_by",
        ).get(pk=pk)  # fmt: skip
    except (Contract.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such contract.") from None
    return contract, _checked(user, contract.account)


def _opens(user, opportunity: Opportunity, visible: bool = True) -> bool:
    """Whether the opportunity's page is this user's to open (``accounts.access``): one they
    may see, and for an AM only the upsells they own (renewals close on the contract's page)."""
    if not visible:
        return False
    if user.role == Role.AM:
        return is_own_upsell(user, opportunity)
    return sees_opportunities(user)


def _visible(user, ref: str = "pk") -> Exists:
    """Whether the user may see the opportunity ``ref`` names, inside the list's own query."""
    return Exists(Opportunity.objects.visible_to(user).filter(pk=OuterRef(ref)))


def _may_assign(user, may_work: bool) -> bool:
    """Managers (of the account's AM) and superusers hand accounts to AMs; AMs do not."""
    return may_work and (user.is_superuser or user.role == Role.MANAGER)


def _account_managers(user) -> QuerySet[User]:
    """The AMs this user may look across or hand accounts to: a manager's AM teams', all for
    a superuser."""
    ams = User.objects.filter(role=Role.AM)
    if not user.is_superuser:
        ams = ams.filter(team__in=managed_teams(user))
    return ams.order_by("first_name", "last_name", "username")


# --- the renewals page ----------------------------------------------------------------------


class Risk:
    """Why a renewal is at risk, as SQL conditions on contracts: nobody has logged a renewal
    conversation since its window opened; the customer's people have gone quiet (the most
    engaged contact's lead has decayed below the cold threshold); or a renewal item has
    breached its SLA.

    The last two are scalar subqueries, one index lookup per contract (contact_account,
    workitem_subject). Written as EXISTS inside an OR, PostgreSQL hashed them instead: every
    engaged lead and every open item read once per request (230 ms for one AM at 100,000
    contracts, against 10 ms now)."""

    REASONS = {
        "risk_silent": "No renewal conversation logged",
        "risk_quiet": "Contacts' engagement has decayed",
        "risk_breached": "A renewal item breached its SLA",
    }

    def __init__(self, *, now: datetime, today: date, start_days: int, scoring: ScoringSettings) -> None:
        breached = WorkItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Contract),
            object_id=OuterRef("pk"),
            kind__in=RENEWAL_ITEM_KINDS,
            state=WorkItem.State.OPEN,
        ).filter(Q(breached_at__isnull=False) | Q(due_at__lte=now))
        top_engagement = (
            Contact.objects.filter(account_id=OuterRef("account_id"), lead__isnull=False)
            .order_by("-lead__engagement_key")
            .values("lead__engagement_key")[:1]
        )
        self.aliases = {
            "breached_item": Subquery(breached.values("pk")[:1]),
            "top_engagement": Subquery(top_engagement),
        }
        self.conditions = {
            "risk_silent": Q(
                renewal_activity_at__isnull=True, end_date__lte=today + timedelta(days=start_days)
            ),
            # No contact with a lead is no evidence either way: not at risk for that.
            "risk_quiet": Q(
                top_engagement__lt=threshold_key(scoring.cold_threshold, now, scoring.half_life_days)
            ),
            "risk_breached": Q(breached_item__isnull=False),
        }
        self.any = Q()
        for condition in self.conditions.values():
            self.any |= condition

    def scope(self, contracts: QuerySet[Contract]) -> QuerySet[Contract]:
        """The contracts with what the conditions read."""
        return contracts.alias(**self.aliases)

    def flags(self) -> dict:
        return {
            name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in self.conditions.items()
        }

    def reasons(self, row: Contract) -> list[str]:
        return [text for name, text in self.REASONS.items() if getattr(row, name)]


@dataclass
class Bucket:
    """Renewals due within ``days`` (and after the previous bucket): totals and first rows."""

    days: int
    title: str
    count: int = 0
    value: Decimal = Decimal(0)
    risk_count: int = 0
    risk_value: Decimal = Decimal(0)
    rows: list = field(default_factory=list)
    query: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.rows)

    @property
    def value_text(self) -> str:
        return _money(self.value) or "0"

    @property
    def risk_value_text(self) -> str:
        return _money(self.risk_value) or "0"


def _bucket_q(days: int, today: date) -> Q:
    """The first bucket also holds the contracts past their end and still active."""
    q = Q(end_date__lte=today + timedelta(days=days))
    if days > BUCKETS[0][0]:
        q &= Q(end_date__gt=today + timedelta(days=days - 30))
    return q


def _bucket_of(end: date, today: date) -> int:
    return next((days for days, _ in BUCKETS if end <= today + timedelta(days=days)), BUCKETS[-1][0])


def _totals(scope: QuerySet[Contract], risk: Risk, today: date, buckets: list[Bucket]) -> None:
    """Counts and value at stake per bucket, all and at risk: one grouped query.

    The risk test is computed once per contract in a subquery that PostgreSQL must not pull
    up (OFFSET 0): pulled up, each aggregate reading it ran its subqueries again (a manager's
    totals at 100,000 contracts took twice as long)."""
    whens = [When(_bucket_q(days, today), then=Value(days)) for days, _ in BUCKETS]
    per_contract = (
        scope.annotate(
            bucket=Case(*whens, output_field=IntegerField()),
            at_risk=ExpressionWrapper(risk.any, output_field=BooleanField()),
        )
        .order_by()
        .values("bucket", "annual_value", "at_risk")
    )
    sql, params = per_contract.query.sql_with_params()
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bucket, COUNT(*), SUM(annual_value),"
            " SUM(CASE WHEN at_risk THEN 1 ELSE 0 END), SUM(CASE WHEN at_risk THEN annual_value ELSE 0 END)"
            f" FROM ({sql}{fence}) AS per_contract GROUP BY bucket",
            params,
        )
        rows = cursor.fetchall()
    by_days = {b.days: b for b in buckets}
    for days, count, value, risk_count, risk_value in rows:
        bucket = by_days.get(days)
        if bucket is not None:
            bucket.count, bucket.value = count, _decimal(value)
            bucket.risk_count, bucket.risk_value = risk_count or 0, _decimal(risk_value)


def _decimal(value) -> Decimal:
    """A sum as an amount (SQLite sums decimals as floats)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _rows(ids: list[int], risk: Risk, now: datetime, today: date, tz) -> list[Contract]:
    """The rows with what they show: one query, and one for their open renewal items."""
    if not ids:
        return []
    open_items = WorkItem.objects.filter(state=WorkItem.State.OPEN, kind__in=RENEWAL_ITEM_KINDS).order_by(
        "due_at", "id"
    )
    rows = list(
        risk.scope(Contract.objects.filter(pk__in=ids))
        .select_related("account__account_manager")
        .annotate(**risk.flags())
        .prefetch_related(Prefetch("work_items", queryset=open_items, to_attr="open_items"))
        .order_by("end_date", "id")
    )
    for row in rows:
        row.days = row.days_left(today)
        row.ago = -row.days
        row.value_text = _money(row.annual_value)
        row.reasons = risk.reasons(row)
        row.talked_text = _local_text(row.renewal_activity_at, tz, "%Y-%m-%d")
        # Reversed here, not by the template's url tag: a page of 150 rows renders faster.
        row.url = reverse("renewals:contract", args=[row.pk])
        row.account_url = reverse("renewals:account", args=[row.account_id])
        for item in row.open_items:
            item.sla_css, item.sla_text, item.countdown = sla_display(item, now)
    return rows


def _renewals_context(request) -> tuple[dict, int]:
    user = request.user
    params = request.GET
    now = timezone.now()
    today = timezone.localdate(now)
    tz = _team_timezone(user)
    windows, scoring = RenewalSettings.load(), ScoringSettings.load()
    risk = Risk(now=now, today=today, start_days=windows.start_days, scoring=scoring)
    contracts = Contract.objects.visible_to(user)
    errors = []

    ams, chosen_am = None, None
    if user.role != Role.AM:
        ams = list(_account_managers(user))
        if ams and not user.is_superuser:
            # Their AMs' ids as a list, not visible_to's join through the AM's team: the planner
            # guessed one AM for a team of 11 and probed every account (342 ms at p95 for 25,630
            # contracts).
            contracts = Contract.objects.filter(account__account_manager_id__in=[am.pk for am in ams])
    scope = risk.scope(contracts.active().filter(end_date__lte=today + timedelta(days=HORIZON_DAYS)))
    if user.role != Role.AM:
        wanted = params.get("am", "")
        chosen_am = next((am for am in ams if str(am.pk) == wanted), None)
        if wanted and chosen_am is None:
            errors.append("Choose an account manager from the list.")
        if chosen_am is not None:
            scope = scope.filter(account__account_manager=chosen_am)
    risk_only = params.get("risk") == "1"
    if risk_only:
        scope = scope.filter(risk.any)
    one = params.get("bucket", "")
    if one and one not in {str(days) for days, _ in BUCKETS}:
        errors.append("Choose 30, 60 or 90 days.")
        one = ""

    base_query = _query(params, drop=("page", "bucket"))
    buckets = [
        Bucket(days, title, query=_query(params, drop=("page",), bucket=str(days)))
        for days, title in BUCKETS
        if not one or str(days) == one
    ]
    _totals(scope, risk, today, buckets)
    page = None
    if one:
        bucket = buckets[0]
        ordered = scope.filter(_bucket_q(bucket.days, today)).order_by("end_date", "id")
        page = Paginator(ordered.values_list("pk", flat=True), ROWS_PER_BUCKET).get_page(params.get("page"))
        bucket.rows = _rows(list(page.object_list), risk, now, today, tz)
    else:
        parts = [
            scope.filter(_bucket_q(b.days, today))
            .order_by("end_date", "id")
            .values_list("pk", flat=True)[:ROWS_PER_BUCKET]
            for b in buckets
        ]
        if connection.features.supports_slicing_ordering_in_compound:
            ids = list(parts[0].union(*parts[1:], all=True))
        else:  # SQLite takes no LIMIT inside a UNION: a query per bucket
            ids = [pk for part in parts for pk in part]
        for row in _rows(ids, risk, now, today, tz):
            next(b for b in buckets if b.days == _bucket_of(row.end_date, today)).rows.append(row)

    context = {
        "buckets": buckets,
        "page": page,
        "one_bucket": bool(one),
        "ams": ams,
        "chosen_am": chosen_am,
        "risk_only": risk_only,
        "errors": errors,
        "today": today,
        "base_query": base_query,
        "page_query": _query(params, drop=("page",)),
        "total_value": _money(sum((b.value for b in buckets), Decimal(0))) or "0",
        "total_risk": _money(sum((b.risk_value for b in buckets), Decimal(0))) or "0",
        "risk_count": sum(b.risk_count for b in buckets),
        "count": sum(b.count for b in buckets),
        "show_am": user.role != Role.AM,
        "no_am_team": ams == [] and not user.is_superuser,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "start_days": windows.start_days,
        "cold_threshold": scoring.cold_threshold,
        "now": now,
    }
    return context, 400 if errors else 200


@login_required
@require_GET
def renewals(request):
    """The renewals coming due in 30, 60 and 90 days (and those past their end, still open),
    with the value at stake and what puts each at risk. An AM's own; a manager's AMs', with a
    filter by AM."""
    if not can_manage_accounts(request.user):
        raise PermissionDenied("Renewals are the account managers' and their managers'.")
    context, status = _renewals_context(request)
    if is_htmx(request) and request.headers.get("HX-Target") == "renewal-results":
        return render(request, "renewals/_renewal_results.html", context, status=status)
    # The expansion leads (people at their customers asking for more): on the full page only.
    context["expansion_items"] = expansion_items_for(request.user, now=context["now"])
    return render(request, "renewals/renewals.html", context, status=status)


# --- the account page ------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the account's timeline: an account event or one of its opportunities'."""

    at: datetime
    title: str
    css: str
    message: str = ""
    actor: object = None
    amount: str = ""
    url: str = ""
    link: str = ""


def _timeline(account: Account, user) -> list[Entry]:
    """The account's events and its opportunities' events, newest first: two index reads."""
    entries = [
        Entry(
            at=event.at,
            title=event.get_kind_display(),
            css=f"ev-{event.kind}",
            message=event.message,
            actor=event.actor,
            amount=_change(event),
            url=reverse("renewals:contract", args=[event.contract_id]) if event.contract_id else "",
            link="contract" if event.contract_id else "",
        )
        for event in AccountEvent.objects.filter(account=account).select_related("actor")[:TIMELINE_LIMIT]
    ]
    opportunity_events = (
        OpportunityEvent.objects.filter(opportunity__account=account)
        .select_related("actor", "opportunity")
        .annotate(visible=_visible(user, "opportunity_id"))
        .order_by("-at", "-id")[:TIMELINE_LIMIT]
    )
    for event in opportunity_events:
        stage = f"{event.from_stage} → {event.to_stage}" if event.from_stage else event.to_stage
        opens = _opens(user, event.opportunity, event.visible)
        entries.append(
            Entry(
                at=event.at,
                title=f"{event.opportunity.name}: {event.get_kind_display().lower()}",
                css=f"ev-opp-{event.kind}",
                message=" · ".join(part for part in (stage, event.message) if part),
                actor=event.actor,
                url=reverse("accounts:opportunity", args=[event.opportunity_id]) if opens else "",
                link="opportunity" if opens else "",
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_LIMIT]


def _change(event: AccountEvent) -> str:
    """What an outcome changed in annual value, signed ("+3,000"); other events' amounts are
    the contract's value, which their message already says."""
    if event.kind not in services.OUTCOME_EVENT.values() or not event.amount:
        return ""
    return ("+" if event.amount > 0 else "") + _money(event.amount)


def _contract_rows(account: Account, today: date) -> list[Contract]:
    """Every term, newest first, each with its predecessor and successor (same account)."""
    contracts = list(account.contracts.order_by("-start_date", "-id")[:CONTRACTS_LIMIT])
    by_id = {c.pk: c for c in contracts}
    for contract in contracts:
        contract.previous, contract.following = by_id.get(contract.renewed_from_id), None
    for contract in contracts:
        if contract.previous is not None:
            contract.previous.following = contract
    for contract in contracts:
        contract.value_text = _money(contract.annual_value)
        contract.days = contract.days_left(today) if contract.is_active else None
    return contracts


def _account_context(request, account: Account, may_work: bool, **forms) -> dict:
    user = request.user
    now = timezone.now()
    scoring = ScoringSettings.load()
    contacts = list(account.contacts.select_related("lead")[: CONTACTS_LIMIT + 1])
    for contact in contacts:
        lead = contact.lead
        if lead is not None:
            contact.grade_now = lead.grade(now, scoring.half_life_days)
            contact.engagement_now = round(lead.engagement(now, scoring.half_life_days))
    opportunities = list(
        account.opportunities.select_related("stage", "owner")
        .annotate(visible=_visible(user))
        .order_by("-handed_off_at", "-id")[: OPPORTUNITIES_LIMIT + 1]
    )
    for opportunity in opportunities:
        opportunity.amount_text = _money(opportunity.amount)
        opportunity.url = (
            reverse("accounts:opportunity", args=[opportunity.pk])
            if _opens(user, opportunity, opportunity.visible)
            else ""
        )
    may_assign = _may_assign(user, may_work)
    context = {
        "account": account,
        "may_work": may_work,
        "may_assign": may_assign,
        "read_only": not may_work,
        "contracts": _contract_rows(account, timezone.localdate(now)),
        "contacts": contacts[:CONTACTS_LIMIT],
        "more_contacts": len(contacts) > CONTACTS_LIMIT,
        "opportunities": opportunities[:OPPORTUNITIES_LIMIT],
        "more_opportunities": len(opportunities) > OPPORTUNITIES_LIMIT,
        "timeline": _timeline(account, user),
        "timeline_limit": TIMELINE_LIMIT,
    }
    if may_work:
        context["contract_form"] = forms.get("contract_form") or ContractForm(auto_id="k_%s")
        context["contract_open"] = "contract_form" in forms
    if may_assign:
        current = str(account.account_manager_id or "")
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            auto_id="a_%s", ams=_account_managers(user), initial={"account_manager": current}
        )
    return context


@login_required
@require_GET
def account(request, pk):
    """A customer account: who manages it, its contracts (every term), its people, its
    opportunities of every kind, and its timeline."""
    account, may_work = _account_for(request.user, pk)
    return render(request, "renewals/account.html", _account_context(request, account, may_work))


@login_required
@require_POST
def assign_am(request, pk):
    """A manager gives the account to an AM, or back to the territory's round-robin."""
    account, may_work = _account_for(request.user, pk)
    if not _may_assign(request.user, may_work):
        raise PermissionDenied("Managers assign account managers.")
    form = AssignForm(request.POST, auto_id="a_%s", ams=_account_managers(request.user))
    if form.is_valid():
        try:
            done = services.assign_account_manager(
                account_id=account.pk, am=form.chosen(), by=request.user, reason=form.cleaned_data["reason"]
            )
        except RenewalsError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f"{done.account_manager} now manages {done.name}.")
            return redirect("renewals:account", pk=account.pk)
    context = _account_context(request, account, may_work, assign_form=form)
    return render(request, "renewals/account.html", context, status=400)


@login_required
@require_POST
def add_contract(request, pk):
    """A contract entered by hand (one signed outside Refinery): the account becomes a
    customer, and renewal windows it is already inside open at once."""
    account, may_work = _account_for(request.user, pk)
    if not may_work:
        raise PermissionDenied("The account's AM or their manager adds its contracts.")
    form = ContractForm(request.POST, auto_id="k_%s")
    if form.is_valid():
        try:
            (made,) = services.add_contracts(
                account=account, terms=[form.terms()], by=request.user, source=Contract.Source.MANUAL
            )
        except IntegrityError:  # the number was taken meanwhile
            form.add_error("number", "Another contract has this number.")
        except RenewalsError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request, f"Contract added: {_money(made.annual_value) or '0'} a year, "
                f"{made.start_date:%Y-%m-%d} to {made.end_date:%Y-%m-%d}.",
            )  # fmt: skip
            return redirect("renewals:account", pk=account.pk)
    context = _account_context(request, account, may_work, contract_form=form)
    return render(request, "renewals/account.html", context, status=400)


# --- one contract -------------------------------------------------------------------------------


def _outcome_initial(contract: Contract) -> dict:
    """The renewal form's defaults: the same terms for as long again."""
    terms = services.next_terms(contract)
    if terms.problems():  # a term ending at the range's end has no next one
        return {}
    return {
        "annual_value": terms.annual_value,
        "end_date": terms.end_date,
        "seats": terms.seats,
        "products": terms.products,
    }


def _contract_context(
    request, contract: Contract, may_work: bool, *, error: str = "", notice: str = "", **forms
) -> dict:
    now = timezone.now()
    items = list(contract.work_items.select_related("policy", "owner").order_by("-created_at", "-id"))
    for item in items:
        item.sla_css, item.sla_text, item.countdown = sla_display(item, now)
    tz = _team_timezone(request.user)
    can_work = may_work and contract.is_active
    context = {
        "contract": contract,
        "account": contract.account,
        "items": items,
        "can_work": can_work,
        "read_only": not may_work,
        "days": contract.days_left(timezone.localdate(now)) if contract.is_active else None,
        "value_text": _money(contract.annual_value) or "0",
        "talked_text": _local_text(contract.renewal_activity_at, tz, "%Y-%m-%d %H:%M"),
        "renewal_url": (
            reverse("accounts:opportunity", args=[contract.renewal_id])
            if contract.renewal_id and _opens(request.user, contract.renewal)
            else ""
        ),
        "tz": tz,
        "error": error,
        "notice": notice,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
    }
    if can_work:
        context["conversation_form"] = forms.get("conversation_form") or ConversationForm(auto_id="c_%s")
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm(
            auto_id="o_%s", initial=_outcome_initial(contract)
        )
        context["outcome_open"] = "outcome_form" in forms
    return context


@login_required
@require_GET
def contract(request, pk):
    """One contract term: its terms, its renewal opportunity and work items with their SLAs,
    and, while it is active, the AM's two actions: log the conversation, record the outcome."""
    contract, may_work = _contract_for(request.user, pk)
    return render(request, "renewals/contract.html", _contract_context(request, contract, may_work))


def _workable_contract(request, pk) -> tuple[Contract, bool]:
    contract, may_work = _contract_for(request.user, pk)
    if not may_work:
        raise PermissionDenied("Only the account's AM or their manager works its renewal.")
    return contract, may_work


def _contract_refused(request, contract: Contract, status: int, exc: RenewalsError | None = None, **forms):
    """The panel (htmx) or the page with the refused form; nothing changed. A refusal naming
    a field goes beside it; one about the contract's state goes above."""
    error = ""
    if exc is not None:
        if exc.field:
            for form in forms.values():
                add_refusal(form, exc)
        else:
            error = str(exc)
    contract, may_work = _contract_for(request.user, contract.pk)  # as it is now
    context = _contract_context(request, contract, may_work, error=error, **forms)
    template = "renewals/_contract_panel.html" if is_htmx(request) else "renewals/contract.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def conversation(request, pk):
    """The AM talked to the customer: the start and reminder items are done."""
    contract, _ = _workable_contract(request, pk)
    form = ConversationForm(request.POST, auto_id="c_%s")
    if not form.is_valid():
        return _contract_refused(request, contract, 400, conversation_form=form)
    try:
        services.log_conversation(contract_id=contract.pk, by=request.user, note=form.cleaned_data["note"])
    except RenewalsError as exc:
        return _contract_refused(request, contract, exc.status, exc, conversation_form=form)
    notice = "Conversation logged: the renewal's start and reminder items are done."
    if is_htmx(request):
        contract, may_work = _contract_for(request.user, contract.pk)
        return render(
            request,
            "renewals/_contract_panel.html",
            _contract_context(request, contract, may_work, notice=notice),
        )
    messages.success(request, notice)
    return redirect(contract.get_absolute_url())


@login_required
@require_POST
def outcome(request, pk):
    """Renewed, expanded, downsized (a new term linked to this one) or churned (a reason). The
    account page shows the result, so both the plain form and htmx go there."""
    contract, _ = _workable_contract(request, pk)
    form = OutcomeForm(request.POST, auto_id="o_%s")
    if not form.is_valid():
        return _contract_refused(request, contract, 400, outcome_form=form)
    data = form.cleaned_data
    try:
        result = services.record_outcome(
            contract_id=contract.pk,
            by=request.user,
            outcome=data["outcome"],
            annual_value=data["annual_value"],
            end_date=data["end_date"],
            seats=data["seats"],
            products=data["products"].strip() or None,
            churn_reason=data["churn_reason"],
            note=data["note"],
        )
    except RenewalsError as exc:
        return _contract_refused(request, contract, exc.status, exc, outcome_form=form)
    messages.success(request, _outcome_notice(data["outcome"], result))
    url = reverse("renewals:account", args=[contract.account_id])
    if is_htmx(request):
        response = render(
            request, "renewals/_contract_panel.html", {"contract": contract, "redirecting": True}
        )
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _outcome_notice(outcome: str, result: Contract) -> str:
    if outcome == Contract.Outcome.CHURNED:
        return f"Churned ({result.churn_reason}): {_money(result.annual_value) or '0'} a year lost."
    label = Contract.Outcome(outcome).label
    return (
        f"{label}: the new term runs {result.start_date:%Y-%m-%d} to {result.end_date:%Y-%m-%d}, "
        f"{_money(result.annual_value) or '0'} a year."
    )
