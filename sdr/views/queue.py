"""The SDR's queue page: an SDR's own queue in the order to work it, a manager's read-only look
at one of their reps' (``?rep=``), or the list of their reps to choose from; and its live
endpoint (``kit.live``), which the open page asks whether the queue changed. Thin: authorize,
read the queue, render. Working one row is ``items``; what a row shows is ``rows``.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.htmx import is_htmx
from kit.live import live_etag, mark, not_modified, poll_seconds
from leads.models import ScoringSettings
from work.models import WorkItem

from ..access import queue_owner_for, reps_of
from ..queue import QueueSummary, queue_for, queue_summary
from .rows import queue_rows

# The page shows the first rows of the queue in its order (the API gives up to QUEUE_LIMIT):
# nobody works a hundred leads before refreshing, and rendering rows is most of the page's
# time (measured: about 0.25 ms a row).
QUEUE_PAGE = 100


@login_required
@require_GET
def queue(request):
    """An SDR's own queue; a manager's read-only look at one of their reps' (``?rep=``)."""
    rep, read_only = queue_owner_for(request.user, request.GET.get("rep"))
    if rep is None:
        reps = (
            reps_of(request.user)
            .select_related("team")
            .annotate(open_items=Count("work_items", filter=Q(work_items__state=WorkItem.State.OPEN)))
            .order_by("team__name", "first_name", "last_name", "username")
        )
        return render(request, "sdr/queue_reps.html", {"reps": reps})
    now = timezone.now()
    summary = queue_summary(rep, now)
    context = _context(request, rep, read_only, now, summary)
    template = "sdr/_queue_list.html" if is_htmx(request) else "sdr/queue.html"
    return render(request, template, context)


@login_required
@require_GET
def queue_live(request):
    """What the open queue page polls: 304 while the queue (the one the page shows: the rep's
    own, or for a manager the ``?rep=`` they may see) is unchanged, else the list again."""
    rep, read_only = queue_owner_for(request.user, request.GET.get("rep"))
    if rep is None:
        raise Http404("Choose a rep.")
    now = timezone.now()
    summary = queue_summary(rep, now)
    etag = _etag(request, rep, summary)
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    context = _context(request, rep, read_only, now, summary)
    return mark(render(request, "sdr/_queue_list.html", context), etag)


def _etag(request, rep, summary: QueueSummary) -> str:
    return live_etag(request, "sdr.queue", (rep.pk, *summary.fingerprint))


def _context(request, rep, read_only: bool, now: datetime, summary: QueueSummary) -> dict:
    scoring = ScoringSettings.load()  # read once: the rows' grades and the order's note
    rows = queue_rows(
        [item for item in queue_for(rep, now)[:QUEUE_PAGE] if item.subject is not None], now, scoring
    )
    return {
        "by_learned": scoring.order_queue_by_propensity,
        "rep": rep,
        "read_only": read_only,
        "rows": rows,
        "counts": summary.counts,
        "total": summary.total,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "live_etag": _etag(request, rep, summary),
        "live_interval": poll_seconds(),
    }
