"""The AM's actions on an expansion lead: open an upsell / cross-sell opportunity on the
customer's account, or "not now" (back to nurture with a reason). Thin: authorize, parse,
call one service in ``renewals.services.expansion``, answer.

The forms live in the renewals page's expansion list (``renewals/_expansion_leads.html``) and
post with htmx: the answer is the list again, fresh, with a notice, or with the refused form
and its errors beside the lead (400 for input, 409 for a lead someone already dealt with).
Without JavaScript the same posts redirect back with the notice or the refusal as a message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.pages import safe_next
from leads.models import Lead

from ..access import expansion_lead_for
from ..forms import NotNowForm, UpsellForm
from ..presenters import expansion_items_for
from ..services import not_now, open_upsell


def _answer(request, lead: Lead, *, notice: str = "", error: str = "", status: int = 200, **refused):
    """The list again (htmx), with the notice, or with the refusal beside the lead; otherwise a
    redirect back with a message."""
    if not is_htmx(request):
        if error or refused:
            first = error or next(
                (e for form in refused.values() for errors in form.errors.values() for e in errors), ""
            )
            messages.error(request, f"{lead.name or lead.email}: {first}")
        else:
            messages.success(request, notice)
        return redirect(safe_next(request, reverse("renewals:renewals")))
    items = expansion_items_for(request.user)
    shown = next((card for card in items if card.expansion_lead.pk == lead.pk), None)
    if shown is not None:
        shown.error = error
        for name, form in refused.items():
            setattr(shown, name, form)
    context = {
        "expansion_items": items,
        "expansion_notice": notice,
        # A lead no longer in the list (dealt with meanwhile) gets its refusal above it.
        "expansion_error": error if shown is None else "",
    }
    return render(request, "renewals/_expansion_leads.html", context, status=status)


@login_required
@require_POST
def expansion_upsell(request, pk):
    """Open an upsell / cross-sell opportunity from the expansion lead."""
    lead = expansion_lead_for(request.user, pk)
    form = UpsellForm(request.POST, auto_id=f"x{lead.pk}_%s")
    if not form.is_valid():
        return _answer(request, lead, status=400, upsell_form=form)
    data = form.cleaned_data
    try:
        opportunity = open_upsell(
            lead_id=lead.pk, by=request.user, name=data["name"], note=data["note"], amount=data["amount"]
        )
    except Refused as exc:
        if exc.field:
            add_refusal(form, exc)
            return _answer(request, lead, status=400, upsell_form=form)
        return _answer(request, lead, error=str(exc), status=exc.status)
    return _answer(
        request,
        lead,
        notice=f"{opportunity.name}: opened on {opportunity.account.name}, in {opportunity.stage}.",
    )


@login_required
@require_POST
def expansion_not_now(request, pk):
    """Not now: the lead goes back to marketing's nurture with the reason."""
    lead = expansion_lead_for(request.user, pk)
    form = NotNowForm(request.POST, auto_id=f"n{lead.pk}_%s")
    if not form.is_valid():
        return _answer(request, lead, status=400, not_now_form=form)
    try:
        not_now(
            lead_id=lead.pk,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except Refused as exc:
        if exc.field:
            add_refusal(form, exc)
            return _answer(request, lead, status=400, not_now_form=form)
        return _answer(request, lead, error=str(exc), status=exc.status)
    return _answer(
        request, lead, notice=f"{lead.name or lead.email}: back to nurture ({form.cleaned_data['reason']})."
    )
