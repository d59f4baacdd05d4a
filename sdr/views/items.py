"""Working one item of the queue: its panel of forms, and the touch, follow-up and disposition
they post. Thin: authorize, call one service, render.

A row is one open work item on a lead. The forms post with htmx and get the row back
(``outerHTML``), so the page never reloads; without JavaScript the same forms post to the
same URLs and redirect back to the queue.
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kit.display import when_text
from kit.errors import Refused
from kit.htmx import is_htmx
from leads.access import get_lead_for_user
from leads.models import ActivityKind, Lead, TouchOutcome
from leads.services import IN_SALES
from team.zones import user_zone
from work.models import WorkItem

from .. import services
from ..access import own_queue_item
from ..forms import DispositionForm, FollowUpForm, TouchForm
from ..models import Channel, Enrollment
from ..queue import queue_summary
from .rows import ROW, queue_row, row_context


def _forms(item: WorkItem, tz: ZoneInfo, **bound) -> dict:
    """The three forms of an item's panel, fresh unless a bound one is given; for a cadence's
    email step, the step (the panel offers to write its email in the composer)."""
    auto_id = f"i{item.pk}_%s"
    return {
        "touch": bound.get("touch") or TouchForm(auto_id=auto_id),
        "follow_up": bound.get("follow_up") or FollowUpForm(tz=tz, auto_id=auto_id),
        "disposition": bound.get("disposition") or DispositionForm(auto_id=auto_id),
        "tz": tz,
        "refused": next(iter(bound.values()), None),
        "email_step": _email_step(item),
    }


def _email_step(item: WorkItem) -> Enrollment | None:
    """The lead's enrollment when the item is its cadence's email step (its ``step`` the one)."""
    if item.kind != WorkItem.Kind.CADENCE_STEP:
        return None
    return (
        Enrollment.objects.select_related("step")
        .filter(lead_id=item.object_id, state=Enrollment.State.ACTIVE, step__channel=Channel.EMAIL)
        .first()
    )


@login_required
@require_GET
def item_detail(request, item_id):
    """The forms for one item: the row's panel (htmx), or a page of its own without JavaScript."""
    item, lead = own_queue_item(request.user, item_id)
    tz = user_zone(request.user)
    if is_htmx(request):
        context = {"item": item, "lead": lead, "workable": lead.status in IN_SALES, "panel": _forms(item, tz)}
        return render(request, "sdr/_item_panel.html", context)
    row = queue_row(item.pk, lead, timezone.now())
    return render(request, "sdr/item.html", row_context(row, panel=_forms(row.item, tz)))


COUNTS = "sdr/_queue_counts.html"


def _succeeded(request, item_id: int, lead_id: int, notice: str, others: Sequence[int] = ()):
    """The row after the change; the lead's other rows the change touched (a touch also
    completes a due follow-up, a disposition closes every item) and the queue's counts come
    along out of band, so each shows its new state in place too."""
    if not is_htmx(request):
        messages.success(request, notice)
        return redirect("sdr:queue")
    lead = get_lead_for_user(request.user, lead_id)
    now = timezone.now()
    response = render(request, ROW, row_context(queue_row(item_id, lead, now), notice=notice))
    for other_id in others:
        if other_id != item_id:
            row = queue_row(other_id, lead, now)
            response.write(render_to_string(ROW, row_context(row, oob=True), request=request))
    # The counts above the list change too (the item left its bucket): out of band as well.
    counts = {"counts": queue_summary(request.user, now).counts, "counts_oob": True}
    response.write(render_to_string(COUNTS, counts, request=request))
    return response


def _other_open_items(item: WorkItem, lead: Lead) -> list[int]:
    return list(WorkItem.objects.open().for_subject(lead).exclude(pk=item.pk).values_list("pk", flat=True))


def _refused(request, item: WorkItem, lead: Lead, **bound):
    """The row with its panel open and the refused form's errors; nothing was saved."""
    row = queue_row(item.pk, lead, timezone.now())
    context = row_context(row, panel=_forms(row.item, user_zone(request.user), **bound))
    template = ROW if is_htmx(request) else "sdr/item.html"
    return render(request, template, context, status=400)


@login_required
@require_POST
def log_touch(request, item_id):
    item, lead = own_queue_item(request.user, item_id)
    form = TouchForm(request.POST, auto_id=f"i{item.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        others = _other_open_items(item, lead)
        try:
            services.log_touch(
                lead_id=lead.pk,
                by=request.user,
                kind=data["kind"],
                outcome=data["outcome"],
                note=data["note"],
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            notice = ActivityKind(data["kind"]).label + " logged"
            if data["outcome"]:
                notice += f": {TouchOutcome(data['outcome']).label.lower()}"
            return _succeeded(request, item.pk, lead.pk, notice + ".", others)
    return _refused(request, item, lead, touch=form)


@login_required
@require_POST
def set_follow_up(request, item_id):
    item, lead = own_queue_item(request.user, item_id)
    tz = user_zone(request.user)
    form = FollowUpForm(request.POST, tz=tz, auto_id=f"i{item.pk}_%s")
    if form.is_valid():
        others = _other_open_items(item, lead)
        try:
            follow_up = services.set_follow_up(
                lead_id=lead.pk,
                by=request.user,
                due_at=form.cleaned_data["due_at"],
                note=form.cleaned_data["note"],
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            notice = f"Next follow-up {when_text(follow_up.due_at, tz)}."
            # An open follow-up is replaced by the new one: the row becomes the new one.
            shown = follow_up.pk if item.kind == WorkItem.Kind.FOLLOW_UP and item.is_open else item.pk
            return _succeeded(request, shown, lead.pk, notice, others)
    return _refused(request, item, lead, follow_up=form)


@login_required
@require_POST
def dispose(request, item_id):
    item, lead = own_queue_item(request.user, item_id)
    form = DispositionForm(request.POST, auto_id=f"i{item.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        others = _other_open_items(item, lead)
        try:
            services.dispose_lead(
                lead_id=lead.pk, by=request.user, to=data["to"], reason=data["reason"], note=data["note"]
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            done = "Back to nurture" if data["to"] == Lead.Status.NURTURE else "Disqualified"
            notice = f"{done}: {data['reason']}."
            return _succeeded(request, item.pk, lead.pk, notice, others)
    return _refused(request, item, lead, disposition=form)
