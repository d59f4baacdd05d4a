"""The AM's actions on an expansion lead: open an upsell / cross-sell opportunity on the
customer's account, or "not now" (back to nurture with a reason). Thin: authorize, parse,
call one service in ``renewals.expansion``, answer.

The forms live in the renewals page's expansion list (``renewals/_expansion_leads.html``) and
post with htmx: the answer is the list again, fresh, with a notice, or with the refused form
and its errors beside the lead (400 for input, 409 for a lead someone already dealt with).
Without JavaScript the same posts redirect back with the notice or the refusal as a message.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kit import bounds
from kit.htmx import is_htmx
from leads.models import Lead

from .expansion import NOT_NOW_REASONS, expansion_items_for, may_work_lead, not_now, open_upsell
from .services import RenewalsError, can_manage_accounts


class UpsellForm(forms.Form):
    """What the AM opens: a name, what the customer wants (the need), an amount if known."""

    name = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Name the opportunity, e.g. “Acme: 20 more seats”.",
            "max_length": "Keep the name under 200 characters.",
        },
    )
    amount = bounds.MoneyField(required=False)
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What the customer wants (required)"}),
        error_messages={
            "required": "Say what the customer wants: it is the opportunity's need.",
            "max_length": "Keep the note under 2,000 characters.",
        },
    )


class NotNowForm(forms.Form):
    """Why the customer is not buying now, and a note for the timeline."""

    reason = forms.ChoiceField(
        choices=[("", "Why not now?"), *[(r, r) for r in NOT_NOW_REASONS]],
        error_messages={"required": "Choose a reason.", "invalid_choice": "Choose a reason from the list."},
    )
    note = forms.CharField(
        required=False, max_length=480, error_messages={"max_length": "Keep the note under 480 characters."}
    )


def _lead_for(user, pk) -> Lead:
    """403 for roles that never work customers (SDRs, AEs, marketing); 404 for a lead that is
    not an expansion lead of this AM (or of an AM this manager manages): ids do not leak."""
    if not can_manage_accounts(user):
        raise PermissionDenied("Expansion leads are worked by account managers.")
    lead = Lead.objects.select_related("owner__team").filter(pk=pk).first()
    if lead is None or not may_work_lead(user, lead):
        raise Http404("No such expansion lead.")
    return lead


def _back(request) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("renewals:renewals")


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
        return redirect(_back(request))
    items = expansion_items_for(request.user)
    shown = next((item for item in items if item.object_id == lead.pk), None)
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


def _refusal_status(exc: RenewalsError) -> int:
    return 400 if exc.field else 409


@login_required
@require_POST
def expansion_upsell(request, pk):
    """Open an upsell / cross-sell opportunity from the expansion lead."""
    lead = _lead_for(request.user, pk)
    form = UpsellForm(request.POST, auto_id=f"x{lead.pk}_%s")
    if not form.is_valid():
        return _answer(request, lead, status=400, upsell_form=form)
    data = form.cleaned_data
    try:
        opportunity = open_upsell(
            lead_id=lead.pk, by=request.user, name=data["name"], note=data["note"], amount=data["amount"]
        )
    except RenewalsError as exc:
        if exc.field:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            return _answer(request, lead, status=400, upsell_form=form)
        return _answer(request, lead, error=str(exc), status=_refusal_status(exc))
    return _answer(
        request,
        lead,
        notice=f"{opportunity.name}: opened on {opportunity.account.name}, in {opportunity.stage}.",
    )


@login_required
@require_POST
def expansion_not_now(request, pk):
    """Not now: the lead goes back to marketing's nurture with the reason."""
    lead = _lead_for(request.user, pk)
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
    except RenewalsError as exc:
        if exc.field:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            return _answer(request, lead, status=400, not_now_form=form)
        return _answer(request, lead, error=str(exc), status=_refusal_status(exc))
    return _answer(
        request, lead, notice=f"{lead.name or lead.email}: back to nurture ({form.cleaned_data['reason']})."
    )
