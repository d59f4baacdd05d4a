"""The SDR's qualify & hand-off page. Thin: authorize through the queue's accessor, parse the
form, call ``services.hand_off``, render.

One view serves the whole page (from the lead page, or without JavaScript) and its form alone
(htmx: opened in a queue row's panel, and re-rendered in place with its errors). A refused
hand-off answers 400 with the form and the service's message beside the input at fault; a
hand-off that went through goes back to the queue with a message naming the AE.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from leads.models import TOUCH_KINDS, Lead, ScoringSettings
from leads.presenters import scored
from leads.services import IN_SALES
from sdr.access import queue_lead_for
from team.zones import user_zone

from .. import services
from ..forms.handoff import BANT, HandoffForm
from ..models import Opportunity

# The touches the summary lists: enough to recall the conversation, not the whole history.
RECENT_TOUCHES = 5


def _queue_url(user, lead: Lead) -> str:
    """Where a hand-off returns to: the SDR's queue; for a manager, the rep's queue they
    handed off from (or their list of reps)."""
    url = reverse("sdr:queue")
    if not user.is_sdr and lead.owner_id and lead.owner_id != user.pk:
        url += f"?rep={lead.owner_id}"
    return url


def _last_handoff(lead: Lead) -> Opportunity | None:
    """The latest handoff of this lead: a live one explains why there is no form; a rejected
    one is what the AE said last time, worth reading (and starting from) before handing off
    again."""
    return (
        Opportunity.objects.filter(lead=lead)
        .select_related("owner")
        .order_by("-handed_off_at", "-id")
        .first()
    )


def _starting_from(last_handoff: Opportunity | None) -> dict:
    """A lead handed off before starts from what the SDR wrote then (not the meeting time:
    that one has most likely passed)."""
    if last_handoff is None or last_handoff.status != Opportunity.Status.REJECTED:
        return {}
    names = [f"{name}{suffix}" for name, _, _ in BANT for suffix in ("", "_note")]
    return {name: getattr(last_handoff, name) for name in [*names, "amount"]}


def _context(request, lead: Lead, form: HandoffForm, tz: ZoneInfo, now: datetime, last_handoff) -> dict:
    return {
        "lead": lead,
        "scored": scored([lead], ScoringSettings.load(), now=now)[0],
        "form": form,
        "tz": tz,
        "workable": lead.status in IN_SALES,
        "last_handoff": last_handoff,
        "touches": list(
            lead.activities.filter(kind__in=TOUCH_KINDS).select_related("actor")[:RECENT_TOUCHES]
        ),
        "in_queue": request.GET.get("from") == "queue" or request.POST.get("from") == "queue",
    }


@login_required
@require_http_methods(["GET", "POST"])
def handoff(request, lead_id):
    """Qualify a lead and hand it to an AE: the lead's SDR, or a manager of its team."""
    lead = queue_lead_for(request.user, lead_id)  # 403 for other roles, 404 outside the queues
    tz = user_zone(request.user)  # meeting times are typed in the SDR's team calendar time
    now = timezone.now()
    last_handoff = _last_handoff(lead)
    status = 200
    if request.method == "POST":
        form = HandoffForm(request.POST, tz=tz, now=now, auto_id=f"h{lead.pk}_%s")
        if form.is_valid():
            data = form.cleaned_data
            try:
                opportunity = services.hand_off(
                    lead_id=lead.pk,
                    by=request.user,
                    qualifying=form.qualifying(),
                    ae=data["ae"],
                    amount=data["amount"],
                    now=now,
                )
            except Refused as exc:
                add_refusal(form, exc)
                lead.refresh_from_db()  # the page says where the lead stands now
                last_handoff = _last_handoff(lead)
            else:
                messages.success(request, f"Handed off to {opportunity.owner}: {opportunity.name}.")
                url = _queue_url(request.user, lead)
                if is_htmx(request):
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
        status = 400
    else:
        form = HandoffForm(initial=_starting_from(last_handoff), tz=tz, now=now, auto_id=f"h{lead.pk}_%s")
    context = _context(request, lead, form, tz, now, last_handoff)
    template = "accounts/_handoff_form.html" if is_htmx(request) else "accounts/handoff.html"
    return render(request, template, context, status=status)
