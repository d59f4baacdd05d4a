"""What a queue row shows beyond the work item's fields (grade, SLA text, links), computed
without a query per row; shared by the queue page and the item views. ``sla_display`` is also
how other apps' pages show a work item's SLA (``from sdr.views import sla_display``).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse

from leads.models import TOUCH_KINDS, ActivityKind, Lead, ScoringSettings
from leads.services import IN_SALES
from work.models import WorkItem

from ..queue import ASK_NOW, Bucket, lead_items

ROW = "sdr/_queue_row.html"


def decorate(items, now: datetime, scoring: ScoringSettings | None = None) -> None:
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


def queue_row(item_id: int, lead: Lead, now: datetime) -> WorkItem:
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
    decorate([item], now)
    return item


def row_context(item: WorkItem, **extra) -> dict:
    return {"item": item, "risk_minutes": settings.WORK_AT_RISK_MINUTES, **extra}
