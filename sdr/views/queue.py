"""The SDR's queue page: an SDR's own queue in the order to work it, a manager's read-only look
at one of their reps' (``?rep=``), or the list of their reps to choose from. Thin: authorize,
read the queue, render. Working one row is ``items``; what a row shows is ``rows``.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.htmx import is_htmx
from work.models import WorkItem

from ..access import queue_owner_for, reps_of
from ..queue import Bucket, queue_for
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
    rows = queue_rows([item for item in queue_for(rep, now)[:QUEUE_PAGE] if item.subject is not None], now)
    counts = _bucket_counts(rep, now)
    context = {
        "rep": rep,
        "read_only": read_only,
        "rows": rows,
        "counts": counts,
        "total": sum(n for _, n, _ in counts),
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
    }
    template = "sdr/_queue_list.html" if is_htmx(request) else "sdr/queue.html"
    return render(request, template, context)


def _bucket_counts(rep, now: datetime) -> list[tuple[str, int, int]]:
    """(label, count, bucket) for every bucket, from one grouped query over the whole queue."""
    rows = queue_for(rep, now).prefetch_related(None).order_by().values("bucket").annotate(n=Count("pk"))
    found = {row["bucket"]: row["n"] for row in rows}
    return [(label, found.get(bucket, 0), bucket) for bucket, label in sorted(Bucket.LABELS.items())]
