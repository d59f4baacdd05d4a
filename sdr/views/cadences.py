"""Enrolling a lead in a cadence and stopping it: one small control shown in the queue item's
panel, on the lead page and beside each prospect of a target account. Thin: authorize through
``queue_lead_for``, call ``sdr.services.cadences``, render the control.

With htmx the control replaces itself (a refusal answers 400 with the reason in the control);
without JavaScript the forms post to the same URLs and go back to the page they came from
(``next``), and the control has a page of its own.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kit.display import when_text
from kit.errors import Refused
from kit.htmx import is_htmx
from kit.pages import safe_next
from leads.models import Lead
from leads.services import IN_SALES
from team.zones import team_zone

from ..access import queue_lead_for
from ..forms import EnrollForm
from ..services import cadences

CONTROL = "sdr/_cadence_control.html"
PAGE = "sdr/_cadence_page.html"


def control_context(lead: Lead, **extra) -> dict:
    """What the control shows for one lead (three queries)."""
    state = cadences.cadence_states([lead.pk])[lead.pk]
    workable = lead.status in IN_SALES and lead.owner_id is not None
    return {
        "lead": lead,
        "cadence": state,
        "cadences": list(cadences.active_cadences()) if workable and not state.active else [],
        "workable": workable,
        "tz": team_zone(lead.team_id),
        **extra,
    }


def _answer(request, lead: Lead, *, notice: str = "", error: str = "", form=None):
    if is_htmx(request):
        context = control_context(lead, notice=notice, error=error, form=form)
        return render(request, CONTROL, context, status=400 if error else 200)
    if error:
        context = control_context(
            lead, error=error, form=form, next=safe_next(request, lead.get_absolute_url())
        )
        return render(request, PAGE, context, status=400)
    messages.success(request, notice)
    return redirect(safe_next(request, lead.get_absolute_url()))


@login_required
@require_GET
def control(request, lead_id):
    """The control for one lead: the htmx partial, or a small page without JavaScript."""
    lead = queue_lead_for(request.user, lead_id)
    template = CONTROL if is_htmx(request) else PAGE
    return render(request, template, control_context(lead, next=safe_next(request, lead.get_absolute_url())))


@login_required
@require_POST
def enroll(request, lead_id):
    lead = queue_lead_for(request.user, lead_id)
    form = EnrollForm(request.POST)
    if not form.is_valid():
        return _answer(request, lead, error=" ".join(form.errors["cadence"]), form=form)
    cadence = form.cleaned_data["cadence"]
    try:
        cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=request.user)
    except Refused as exc:
        return _answer(request, lead, error=str(exc), form=form)
    state = cadences.cadence_states([lead.pk])[lead.pk]
    notice = f"Enrolled in {cadence}."
    if state.due_at:
        notice = f"Enrolled in {cadence}: step 1 is due {when_text(state.due_at)} and waits in the queue."
    return _answer(request, lead, notice=notice)


@login_required
@require_POST
def stop(request, lead_id):
    lead = queue_lead_for(request.user, lead_id)
    try:
        cadences.stop(lead_id=lead.pk, by=request.user)
    except Refused as exc:
        return _answer(request, lead, error=str(exc))
    return _answer(request, lead, notice="Cadence stopped; its open step left the queue.")
