"""One contract term's page and the AM's two actions on it: log the renewal conversation,
record the outcome. The forms post plainly or with htmx (the renewal panel comes back); a
refusal renders the form with its errors: 400 for bad input, 409 for a state that refuses
(already renewed), as on the AE's pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.forms.activities import LogWorkForm
from accounts.models import Opportunity
from accounts.presenters.work_log import WorkEntry, WorkLog, newest
from kit.display import day_text, when_text
from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.pages import money_text
from sdr.views import item_lines
from team.zones import user_zone

from .. import services
from ..access import (
    contract_for,
    opens_opportunity,
)
from ..forms import ConversationForm, OutcomeForm
from ..models import Contract, ContractActivity

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


def _work_log(request, contract: Contract, may_work: bool, tz, form=None) -> WorkLog:
    """The calls, meetings and notes logged on this contract (one query), and the form for the
    account's AM and their manager. The form's answer is the whole panel: a call can be the
    renewal conversation, which changes the renewal's facts and items too."""
    links, more = newest(
        ContractActivity.objects.filter(contract=contract).select_related("activity__actor")[:51]
    )
    return WorkLog(
        entries=[WorkEntry(link.activity, conversation=link.renewal_conversation) for link in links],
        more=more,
        zone=tz,
        post_url=reverse("renewals:log_contract_work", args=[contract.pk]),
        form=(form or LogWorkForm(auto_id="w_%s")) if may_work else None,
        target="#renewal-panel",
    )


def _contract_context(
    request, contract: Contract, may_work: bool, *, error: str = "", notice: str = "", **forms
) -> dict:
    now = timezone.now()
    visible = (
        contract.opportunity_id is not None
        and Opportunity.objects.visible_to(request.user).filter(pk=contract.opportunity_id).exists()
    )
    items = item_lines(
        contract.work_items.select_related("policy", "owner").order_by("-created_at", "-id"), now
    )
    tz = user_zone(request.user)
    can_work = may_work and contract.is_active
    context = {
        "contract": contract,
        "account": contract.account,
        "items": items,
        "can_work": can_work,
        "read_only": not may_work,
        "days": contract.days_left(timezone.localdate(now)) if contract.is_active else None,
        "value_text": money_text(contract.annual_value or 0),
        "talked_text": when_text(contract.renewal_activity_at, tz),
        "renewal_url": (
            reverse("accounts:opportunity", args=[contract.renewal_id])
            if contract.renewal is not None and opens_opportunity(request.user, contract.renewal)
            else ""
        ),
        "tz": tz,
        "error": error,
        "notice": notice,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "log": _work_log(request, contract, may_work, tz, forms.get("log_form")),
        "origin_url": (
            reverse("accounts:opportunity", args=[contract.opportunity_id])
            if contract.opportunity is not None
            and opens_opportunity(request.user, contract.opportunity, visible)
            else ""
        ),
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
    contract, may_work = contract_for(request.user, pk)
    return render(request, "renewals/contract.html", _contract_context(request, contract, may_work))


def _workable_contract(request, pk) -> tuple[Contract, bool]:
    contract, may_work = contract_for(request.user, pk)
    if not may_work:
        raise PermissionDenied("Only the account's AM or their manager works its renewal.")
    return contract, may_work


def _contract_refused(request, contract: Contract, status: int, exc: Refused | None = None, **forms):
    """The panel (htmx) or the page with the refused form; nothing changed. A refusal naming
    a field goes beside it; one about the contract's state goes above."""
    error = ""
    if exc is not None:
        if exc.field:
            for form in forms.values():
                add_refusal(form, exc)
        else:
            error = str(exc)
    contract, may_work = contract_for(request.user, contract.pk)  # as it is now
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
    except Refused as exc:
        return _contract_refused(request, contract, exc.status, exc, conversation_form=form)
    notice = "Conversation logged: the renewal's start and reminder items are done."
    if is_htmx(request):
        contract, may_work = contract_for(request.user, contract.pk)
        return render(
            request,
            "renewals/_contract_panel.html",
            _contract_context(request, contract, may_work, notice=notice),
        )
    messages.success(request, notice)
    return redirect(contract.get_absolute_url())


@login_required
@require_POST
def log_work(request, pk):
    """A call, a meeting or a note on the contract (the account's AM or their manager, in any
    state). A call or a meeting while the renewal window is open is the renewal conversation
    (``services.log_contract_work``). With htmx the panel comes back (400 with the form's
    errors); without, a redirect back or the page with the errors."""
    contract, _ = _workable_contract(request, pk)
    form = LogWorkForm(request.POST, auto_id="w_%s")
    if not form.is_valid():
        return _contract_refused(request, contract, 400, log_form=form)
    try:
        link = services.log_contract_work(
            contract_id=contract.pk,
            by=request.user,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
        )
    except Refused as exc:
        return _contract_refused(request, contract, exc.status, exc, log_form=form)
    notice = f"{link.activity.get_kind_display()} logged"
    notice += ": it counts as the renewal conversation." if link.renewal_conversation else "."
    if is_htmx(request):
        contract, may_work = contract_for(request.user, contract.pk)
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
    except Refused as exc:
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
        return f"Churned ({result.churn_reason}): {money_text(result.annual_value or 0)} a year lost."
    label = Contract.Outcome(outcome).label
    return (
        f"{label}: the new term runs {day_text(result.start_date)} to {day_text(result.end_date)}, "
        f"{money_text(result.annual_value or 0)} a year."
    )
