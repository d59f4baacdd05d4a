"""The customer account page: who manages it, its contracts (every term), its people, its
opportunities of every kind and its timeline; a manager gives it to an AM, the AM (or their
manager) adds a contract signed outside Refinery. Forms post plainly and redirect back with
a message; a refusal renders the form with its errors (400)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.forms.activities import LogWorkForm
from accounts.models import Account, AccountRedirect, Activity, OpportunityEvent
from accounts.presenters.work_log import WorkEntry, WorkLog, newest
from accounts.services import log_work as log_account_work
from accounts.views.work_log import post_work_log
from kit.bounds import INT_MAX
from kit.display import day_text
from kit.errors import Refused, add_refusal
from kit.pages import money_text
from leads.models import ScoringSettings
from team.zones import user_zone

from .. import services
from ..access import (
    account_for,
    account_managers_for,
    assigns_account_managers,
    opens_opportunity,
    visible_opportunity,
)
from ..forms import AssignForm, ContractForm
from ..models import AccountEvent, Contract
from ..presenters import contact_rows, opportunity_rows, term_rows

# so the caps only bound a page nobody could read anyway.
CONTRACTS_LIMIT = 100
CONTACTS_LIMIT = 100
OPPORTUNITIES_LIMIT = 50
TIMELINE_LIMIT = 50


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
        .annotate(visible=visible_opportunity(user, "opportunity_id"))
        .order_by("-at", "-id")[:TIMELINE_LIMIT]
    )
    for event in opportunity_events:
        stage = f"{event.from_stage} → {event.to_stage}" if event.from_stage else event.to_stage
        opens = opens_opportunity(user, event.opportunity, event.visible)
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
    return ("+" if event.amount > 0 else "") + money_text(event.amount)


def _work_log(request, account: Account, may_work: bool, *, form=None, notice: str = "") -> WorkLog:
    """Every call, meeting and note logged on the account, its opportunities and its contracts
    (one query), each saying where it was logged; the form for its AM and their manager."""
    user = request.user
    activities, more = newest(
        Activity.objects.filter(account=account)
        .select_related("actor", "opportunity", "contract_link__contract")
        .annotate(visible=visible_opportunity(user, "opportunity_id"))[:51]
    )
    entries = []
    for activity in activities:
        link = getattr(activity, "contract_link", None)
        if link is not None:
            term = link.contract
            place = f"the {day_text(term.start_date)} → {day_text(term.end_date)} contract"
            url = reverse("renewals:contract", args=[term.pk])
            entries.append(WorkEntry(activity, place, url, conversation=link.renewal_conversation))
        elif activity.opportunity is not None:
            opens = opens_opportunity(user, activity.opportunity, activity.visible)
            url = reverse("accounts:opportunity", args=[activity.opportunity_id]) if opens else ""
            entries.append(WorkEntry(activity, activity.opportunity.name, url))
        else:
            entries.append(WorkEntry(activity))
    return WorkLog(
        entries=entries,
        more=more,
        zone=user_zone(user),
        post_url=reverse("renewals:log_account_work", args=[account.pk]),
        form=(form or LogWorkForm(auto_id="w_%s")) if may_work else None,
        notice=notice,
    )


def _account_context(request, account: Account, may_work: bool, **forms) -> dict:
    user = request.user
    now = timezone.now()
    scoring = ScoringSettings.load()
    contacts = list(account.contacts.select_related("lead")[: CONTACTS_LIMIT + 1])
    opportunities = list(
        account.opportunities.select_related("stage", "owner", "renewal_of")
        .annotate(visible=visible_opportunity(user))
        .order_by("-handed_off_at", "-id")[: OPPORTUNITIES_LIMIT + 1]
    )
    terms = list(account.contracts.order_by("-start_date", "-id")[:CONTRACTS_LIMIT])
    may_assign = may_work and assigns_account_managers(user)
    context = {
        "account": account,
        "may_work": may_work,
        "may_assign": may_assign,
        "read_only": not may_work,
        "contracts": term_rows(terms, timezone.localdate(now)),
        "contacts": contact_rows(contacts[:CONTACTS_LIMIT], now, scoring.half_life_days),
        "more_contacts": len(contacts) > CONTACTS_LIMIT,
        "opportunities": opportunity_rows(opportunities[:OPPORTUNITIES_LIMIT], user),
        "more_opportunities": len(opportunities) > OPPORTUNITIES_LIMIT,
        "timeline": _timeline(account, user),
        "timeline_limit": TIMELINE_LIMIT,
        "log": _work_log(request, account, may_work, form=forms.get("log_form")),
    }
    if may_work:
        context["contract_form"] = forms.get("contract_form") or ContractForm(auto_id="k_%s")
        context["contract_open"] = "contract_form" in forms
    if may_assign:
        current = str(account.account_manager_id or "")
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            auto_id="a_%s", ams=account_managers_for(user), initial={"account_manager": current}
        )
    return context


@login_required
@require_GET
def account(request, pk):
    """A customer account: who manages it, its contracts (every term), its people, its
    opportunities of every kind, and its timeline."""
    try:
        account, may_work = account_for(request.user, pk)
    except Http404:
        # A merged account (``dedupe``): its old id answers with the survivor, if the user may see it.
        survivor = (
            AccountRedirect.objects.filter(old_id=pk).values_list("account_id", flat=True).first()
            if 1 <= pk <= INT_MAX  # kit.bounds' ids: SQLite overflows on larger ones
            else None
        )
        if survivor is None:
            raise
        return redirect("renewals:account", pk=account_for(request.user, survivor)[0].pk)
    return render(request, "renewals/account.html", _account_context(request, account, may_work))


@login_required
@require_POST
def assign_am(request, pk):
    """A manager gives the account to an AM, or back to the territory's round-robin."""
    account, may_work = account_for(request.user, pk)
    if not (may_work and assigns_account_managers(request.user)):
        raise PermissionDenied("Managers assign account managers.")
    form = AssignForm(request.POST, auto_id="a_%s", ams=account_managers_for(request.user))
    if form.is_valid():
        try:
            done = services.assign_account_manager(
                account_id=account.pk, am=form.chosen(), by=request.user, reason=form.cleaned_data["reason"]
            )
        except Refused as exc:
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
    account, may_work = account_for(request.user, pk)
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
        except Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request, f"Contract added: {money_text(made.annual_value or 0)} a year, "
                f"{day_text(made.start_date)} to {day_text(made.end_date)}.",
            )  # fmt: skip
            return redirect("renewals:account", pk=account.pk)
    context = _account_context(request, account, may_work, contract_form=form)
    return render(request, "renewals/account.html", context, status=400)


@login_required
@require_POST
def log_work(request, pk):
    """A call, a meeting or a note on the account (its AM or their manager). With htmx the
    section comes back: the new entry on top (200), or the form with its errors (400);
    without, a redirect back or the page with the errors."""
    account, may_work = account_for(request.user, pk)
    if not may_work:
        raise PermissionDenied("Only the account's AM or their manager logs work on it.")
    return post_work_log(
        request,
        log=lambda **entry: log_account_work(account_id=account.pk, by=request.user, **entry),
        section=lambda **shown: _work_log(request, account, may_work, **shown),
        page=lambda form: render(
            request,
            "renewals/account.html",
            _account_context(request, account, may_work, log_form=form),
            status=400,
        ),
        back=reverse("renewals:account", args=[account.pk]),
    )
