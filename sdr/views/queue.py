"""The SDR's queue page and the forms that work it. Thin: authorize, call one service, render.

A row is one open work item on a lead. Touch, follow-up and disposition forms post with htmx
and get the row back (``outerHTML``), so the page never reloads; without JavaScript the same
forms post to the same URLs and redirect back to the queue.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kit.htmx import is_htmx
from leads.access import get_lead_for_user
from leads.models import TOUCH_KINDS, ActivityKind, Lead, ScoringSettings, TouchOutcome
from leads.services import IN_SALES
from team.access import can_manage_reps, can_work_queue, reps_managed_by
from team.models import Team, User
from work.models import WorkItem

from .. import services
from ..forms import DispositionForm, FollowUpForm, TouchForm
from ..queue import ASK_NOW, Bucket, lead_items, queue_for

ROW = "sdr/_queue_row.html"


# --- the queue -----------------------------------------------------------------------------


# The page shows the first rows of the queue in its order (the API gives up to QUEUE_LIMIT):
# nobody works a hundred leads before refreshing, and rendering rows is most of the page's
# time (measured: about 0.25 ms a row).
QUEUE_PAGE = 100


@login_required
@require_GET
def queue(request):
    """An SDR's own queue; a manager's read-only look at one of their reps' (``?rep=``)."""
    rep, read_only = _queue_owner(request)
    if rep is None:
        reps = (
            reps_managed_by(request.user)
            .select_related("team")
            .annotate(open_items=Count("work_items", filter=Q(work_items__state=WorkItem.State.OPEN)))
            .order_by("team__name", "first_name", "last_name", "username")
        )
        return render(request, "sdr/queue_reps.html", {"reps": reps})
    now = timezone.now()
    items = [item for item in queue_for(rep, now)[:QUEUE_PAGE] if item.subject is not None]
    _decorate(items, now)
    counts = _bucket_counts(rep, now)
    context = {
        "rep": rep,
        "read_only": read_only,
        "items": items,
        "counts": counts,
        "total": sum(n for _, n, _ in counts),
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
    }
    template = "sdr/_queue_list.html" if is_htmx(request) else "sdr/queue.html"
    return render(request, template, context)


def _queue_owner(request):
    """Whose queue this request may see, and whether read-only. ``(None, True)``: a manager
    who has not chosen a rep yet."""
    user = request.user
    rep_id = request.GET.get("rep")
    if rep_id and can_work_queue(user) and rep_id == str(user.pk):
        return user, False
    if rep_id:
        if not can_manage_reps(user):
            if can_work_queue(user):
                raise Http404("No such queue.")
            raise PermissionDenied("Your role has no queue of leads.")
        try:
            return reps_managed_by(user).get(pk=int(rep_id)), True
        except (ValueError, User.DoesNotExist):
            raise Http404("No such rep in your teams.") from None
    if can_work_queue(user):
        return user, False
    if can_manage_reps(user):
        return None, True
    raise PermissionDenied("Your role has no queue of leads.")


def _bucket_counts(rep, now: datetime) -> list[tuple[str, int, int]]:
    """(label, count, bucket) for every bucket, from one grouped query over the whole queue."""
    rows = queue_for(rep, now).prefetch_related(None).order_by().values("bucket").annotate(n=Count("pk"))
    found = {row["bucket"]: row["n"] for row in rows}
    return [(label, found.get(bucket, 0), bucket) for bucket, label in sorted(Bucket.LABELS.items())]


def _decorate(items, now: datetime, scoring: ScoringSettings | None = None) -> None:
    """What a row shows beyond the item's fields, computed without a query per row."""
    half_life = (scoring or ScoringSettings.load()).half_life_days
    for item in items:
        lead = item.subject
        lead.grade_now = lead.grade(now, half_life)
        lead.engagement_now = lead.engagement(now, half_life)
        item.workable = lead.status in IN_SALES
        item.bucket_label = Bucket.LABELS.get(getattr(item, "bucket", None), "")
        kind = getattr(item, "last_touch_kind", None)
        item.touch_label = ActivityKind(kind).label if kind in ActivityKind.values else ""
        item.sla_css, item.sla_text, item.countdown = sla_display(item, now)
        # Precomputed here rather than in the template: at a few hundred rows the template's
        # {% url %} and |naturaltime lookups were a third of the page's time.
        item.lead_url = reverse("leads:detail", args=[lead.pk])
        item.panel_url = reverse("sdr:item", args=[item.pk])
        item.touch_ago = naturaltime(item.last_touch_at) if getattr(item, "last_touch_at", None) else ""


def sla_display(item: WorkItem, now: datetime) -> tuple[str, str, str]:
    """(state for the style, text, countdown mode for the page's script: "sla", "due" or "")."""
    if item.state == WorkItem.State.DONE:
        if item.has_sla:
            return ("met", "SLA met", "") if item.met_sla else ("late", "SLA met late", "")
        return "done", "Done", ""
    if item.state != WorkItem.State.OPEN:
        return "closed", "Closed", ""
    left = item.due_at - now
    if item.kind in ASK_NOW:
        return "due", "Look now", ""  # no timer: it asks for attention, it can't be late
    if item.has_sla:
        text = f"{_span(left)} left" if left > timedelta(0) else f"breached {_span(left)} ago"
        return item.sla_state(now), text, "sla"
    if left > timedelta(0):
        return "due", f"due in {_span(left)}", "due"
    return "overdue", f"overdue {_span(left)}", "due"


def _span(delta: timedelta) -> str:
    """ "1d 4h", "2h 05m" or "12m 30s": the same format as static/js/queue.js."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


# --- working one item ----------------------------------------------------------------------


def _own_item(request, item_id) -> tuple[WorkItem, Lead]:
    """The rep's own work item and its lead: 403 for roles without a queue, 404 for anything
    that is not theirs (another rep's item, or a lead that has since moved on)."""
    if not can_work_queue(request.user):
        raise PermissionDenied("Only SDRs work a queue.")
    item = WorkItem.objects.filter(
        pk=item_id, owner=request.user, content_type=ContentType.objects.get_for_model(Lead)
    ).first()
    if item is None:
        raise Http404("No such item in your queue.")
    return item, get_lead_for_user(request.user, item.object_id)


def _rep_timezone(user) -> ZoneInfo:
    """Follow-up times are typed in the rep's team calendar time."""
    name = None
    if user.team_id:
        name = Team.objects.filter(pk=user.team_id).values_list("calendar__timezone", flat=True).first()
    return ZoneInfo(name or "UTC")


def _forms(item: WorkItem, tz: ZoneInfo, **bound) -> dict:
    """The three forms of an item's panel, fresh unless a bound one is given."""
    auto_id = f"i{item.pk}_%s"
    return {
        "touch": bound.get("touch") or TouchForm(auto_id=auto_id),
        "follow_up": bound.get("follow_up") or FollowUpForm(tz=tz, auto_id=auto_id),
        "disposition": bound.get("disposition") or DispositionForm(auto_id=auto_id),
        "tz": tz,
        "refused": next(iter(bound.values()), None),
    }


def _row(item_id: int, lead: Lead, now: datetime) -> WorkItem:
    """One row as the queue shows it; for an item no longer open, its final state."""
    item = lead_items(now).prefetch_related(None).filter(pk=item_id).first()
    if item is None:
        item = WorkItem.objects.select_related("policy").get(pk=item_id)
        touch = (
            lead.activities.filter(kind__in=TOUCH_KINDS)
            .order_by("-occurred_at", "-id")
            .values("occurred_at", "kind")
            .first()
        ) or {}
        item.bucket = None
        item.last_touch_at, item.last_touch_kind = touch.get("occurred_at"), touch.get("kind")
    item.subject = lead
    _decorate([item], now)
    return item


def _row_context(item: WorkItem, **extra) -> dict:
    return {"item": item, "risk_minutes": settings.WORK_AT_RISK_MINUTES, **extra}


@login_required
@require_GET
def item_detail(request, item_id):
    """The forms for one item: the row's panel (htmx), or a page of its own without JavaScript."""
    item, lead = _own_item(request, item_id)
    tz = _rep_timezone(request.user)
    if is_htmx(request):
        item.subject, item.workable = lead, lead.status in IN_SALES
        return render(request, "sdr/_item_panel.html", {"item": item, "panel": _forms(item, tz)})
    row = _row(item.pk, lead, timezone.now())
    return render(request, "sdr/item.html", _row_context(row, panel=_forms(row, tz)))


def _succeeded(request, item_id: int, lead_id: int, notice: str, others: Sequence[int] = ()):
    """The row after the change; the lead's other rows the change touched (a touch also
    completes a due follow-up, a disposition closes every item) come along out of band, so
    each shows its new state in place too."""
    if not is_htmx(request):
        messages.success(request, notice)
        return redirect("sdr:queue")
    lead = get_lead_for_user(request.user, lead_id)
    now = timezone.now()
    response = render(request, ROW, _row_context(_row(item_id, lead, now), notice=notice))
    for other_id in others:
        if other_id != item_id:
            row = _row(other_id, lead, now)
            response.write(render_to_string(ROW, _row_context(row, oob=True), request=request))
    return response


def _other_open_items(item: WorkItem, lead: Lead) -> list[int]:
    return list(WorkItem.objects.open().for_subject(lead).exclude(pk=item.pk).values_list("pk", flat=True))


def _refused(request, item: WorkItem, lead: Lead, **bound):
    """The row with its panel open and the refused form's errors; nothing was saved."""
    row = _row(item.pk, lead, timezone.now())
    context = _row_context(row, panel=_forms(row, _rep_timezone(request.user), **bound))
    template = ROW if is_htmx(request) else "sdr/item.html"
    return render(request, template, context, status=400)


@login_required
@require_POST
def log_touch(request, item_id):
    item, lead = _own_item(request, item_id)
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
        except services.SdrError as exc:
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
    item, lead = _own_item(request, item_id)
    tz = _rep_timezone(request.user)
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
        except services.SdrError as exc:
            form.add_error(None, str(exc))
        else:
            local = timezone.localtime(follow_up.due_at, tz)
            notice = f"Next follow-up {local:%a %d %b, %H:%M} ({tz.key})."
            # An open follow-up is replaced by the new one: the row becomes the new one.
            shown = follow_up.pk if item.kind == WorkItem.Kind.FOLLOW_UP and item.is_open else item.pk
            return _succeeded(request, shown, lead.pk, notice, others)
    return _refused(request, item, lead, follow_up=form)


@login_required
@require_POST
def dispose(request, item_id):
    item, lead = _own_item(request, item_id)
    form = DispositionForm(request.POST, auto_id=f"i{item.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        others = _other_open_items(item, lead)
        try:
            services.dispose_lead(
                lead_id=lead.pk, by=request.user, to=data["to"], reason=data["reason"], note=data["note"]
            )
        except services.SdrError as exc:
            form.add_error(None, str(exc))
        else:
            done = "Back to nurture" if data["to"] == Lead.Status.NURTURE else "Disqualified"
            notice = f"{done}: {data['reason']}."
            return _succeeded(request, item.pk, lead.pk, notice, others)
    return _refused(request, item, lead, disposition=form)
