"""What a queue row shows beyond the work item's fields (grade, SLA text, links): a
``QueueRow`` per item, computed without a query per row; shared by the queue page and the
item views. ``sla_display`` is also how other apps' pages show a work item's SLA
(``from sdr.views import sla_display``), and ``ItemLine`` a work item beside its SLA badge.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime

from kit.display import when_text
from kit.html import url_maker
from leads.models import TOUCH_KINDS, ActivityKind, Lead, ScoringSettings
from leads.services import IN_SALES
from work.models import WorkItem

from ..queue import ASK_NOW, Bucket, lead_items

ROW = "sdr/_queue_row.html"
# ``ActivityKind.values`` builds its list on every call: once here, not once a row.
ACTIVITY_KINDS = frozenset(ActivityKind.values)


@dataclass(frozen=True)
class QueueRow:
    """One row of a queue: the work item, its lead, and what the row shows of them now."""

    item: WorkItem
    lead: Lead
    grade: str
    engagement: float
    workable: bool  # the lead is still in a queue (MQL or working): the forms apply
    bucket_label: str
    last_touch_at: datetime | None
    touch_label: str
    touch_ago: str
    sla_css: str
    sla_text: str
    countdown: str  # the page script's countdown mode: "sla", "due" or ""
    # Precomputed here rather than in the template: at a few hundred rows the template's
    # {% url %} and |naturaltime lookups were a third of the page's time.
    lead_url: str
    panel_url: str


def _row(
    item: WorkItem,
    lead: Lead,
    now: datetime,
    half_life: float,
    *,
    bucket: int | None,
    last_touch_at: datetime | None,
    last_touch_kind: str | None,
    urls: tuple[Callable[[int], str], Callable[[int], str]] | None = None,
) -> QueueRow:
    lead_url, panel_url = urls or _urls()
    sla_css, sla_text, countdown = sla_display(item, now)
    bucket_label = Bucket.LABELS.get(bucket, "") if bucket is not None else ""
    if bucket == Bucket.SENDS_ITSELF:
        # Refinery sends it (paced, within the sender's hours): nothing for the rep to chase.
        bucket_label = f"Sends automatically at {when_text(item.due_at)}"
        left = item.due_at - now
        sla_css, countdown = "auto", ""
        sla_text = f"sends in {_span(left)}" if left > timedelta(0) else "sending"
    return QueueRow(
        item=item,
        lead=lead,
        grade=lead.grade(now, half_life),
        engagement=lead.engagement(now, half_life),
        workable=lead.status in IN_SALES,
        bucket_label=bucket_label,
        last_touch_at=last_touch_at,
        touch_label=ActivityKind(last_touch_kind).label if last_touch_kind in ACTIVITY_KINDS else "",
        touch_ago=naturaltime(last_touch_at) if last_touch_at else "",
        sla_css=sla_css,
        sla_text=sla_text,
        countdown=countdown,
        lead_url=lead_url(lead.pk),
        panel_url=panel_url(item.pk),
    )


def queue_rows(items, now: datetime, scoring: ScoringSettings | None = None) -> list[QueueRow]:
    """The rows of queue items (``sdr.queue.lead_items``, annotated with their bucket and last
    touch, their lead prefetched as ``subject``)."""
    half_life = (scoring or ScoringSettings.load()).half_life_days
    urls = _urls()
    return [
        _row(
            item,
            item.subject,
            now,
            half_life,
            bucket=getattr(item, "bucket", None),
            last_touch_at=getattr(item, "last_touch_at", None),
            last_touch_kind=getattr(item, "last_touch_kind", None),
            urls=urls,
        )
        for item in items
    ]


def _urls() -> tuple[Callable[[int], str], Callable[[int], str]]:
    """A row's links (a lead's page, an item's panel), each reversed once for the whole list."""
    return url_maker("leads:detail"), url_maker("sdr:item")


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


@dataclass(frozen=True)
class ItemLine:
    """A work item with its SLA badge (``sla_display``), as a page's list of work items shows
    it."""

    item: WorkItem
    sla_css: str
    sla_text: str
    countdown: str

    @classmethod
    def of(cls, item: WorkItem, now: datetime) -> "ItemLine":
        return cls(item, *sla_display(item, now))


def item_lines(items, now: datetime) -> list[ItemLine]:
    return [ItemLine.of(item, now) for item in items]


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


def queue_row(item_id: int, lead: Lead, now: datetime) -> QueueRow:
    """One row as the queue shows it; for an item no longer open, its final state."""
    queued = lead_items(now).prefetch_related(None).filter(pk=item_id).first()
    item: WorkItem
    bucket: int | None
    touch: Mapping[str, Any]
    if queued is not None:
        item, bucket = queued, queued.bucket
        touch = {"occurred_at": queued.last_touch_at, "kind": queued.last_touch_kind}
    else:
        item = WorkItem.objects.select_related("policy").get(pk=item_id)
        bucket = None
        touch = (
            lead.activities.filter(kind__in=TOUCH_KINDS)
            .order_by("-occurred_at", "-id")
            .values("occurred_at", "kind")
            .first()
        ) or {}
    half_life = ScoringSettings.load().half_life_days
    return _row(
        item,
        lead,
        now,
        half_life,
        bucket=bucket,
        last_touch_at=touch.get("occurred_at"),
        last_touch_kind=touch.get("kind"),
    )


def row_context(row: QueueRow, **extra) -> dict:
    return {
        "row": row,
        "item": row.item,
        "lead": row.lead,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        **extra,
    }
