"""The manager's breach review. Thin: parse the filters, authorize, read the numbers
(``work.metrics``), call the one service that acknowledges a breach, render.

One view serves the page and its htmx partials: the whole results block when the filters
change, only the breach list when a pager link targets it.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kit.errors import Refused
from kit.htmx import is_htmx

from . import access, metrics, services
from .filters import BreachFilter, for_list
from .forms import AcknowledgeForm
from .models import Breach, format_minutes
from .presenters import at_risk, late_breaches, rep_lines, summary

# A page of the list, and the items at risk shown: what a manager reads at a glance (the pager
# and the filters reach the rest), and what keeps the page's rendering short.
BREACHES_PER_PAGE = 25
AT_RISK_SHOWN = 20
# With no days chosen, the breach rate and the speed to first touch cover the last 30 days: a
# trend read over all time would grow with every year of history (and read all of it).
RATES_DAYS = 30
LIST_TARGET = "breach-list"


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _query(params: QueryDict, **changes) -> str:
    """The current filters with some replaced, as a query string (no page number)."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _list_context(request, breaches: QuerySet[Breach], now) -> dict:
    paginator = Paginator(for_list(breaches, now), BREACHES_PER_PAGE)
    # Counted on the breaches alone: the list's joins and annotations are for the rows shown.
    paginator.count = breaches.count()  # sets the cached_property's value
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = late_breaches(page.object_list)  # type: ignore[assignment]  # the page lists presenter rows
    return {
        "page": page,
        "query": _query(request.GET),
        "next_url": request.get_full_path(),
        "ack_form": AcknowledgeForm(),
    }


@login_required
def breach_review(request):
    _require(access.may_review_breaches(request.user))
    now = timezone.now()
    breach_filter = BreachFilter(
        request.GET or None, queryset=access.visible_breaches(request.user), request=request
    )
    valid = not breach_filter.is_bound or breach_filter.is_valid()
    breaches = breach_filter.qs if valid else Breach.objects.none()
    context = {"filter": breach_filter, "valid": valid, "now": now}

    if request.headers.get("HX-Target") == LIST_TARGET and is_htmx(request):
        context.update(_list_context(request, breaches, now))
        return render(request, "work/_breach_list.html", context)

    if valid:
        start, end = breach_filter.period()
        no_days_chosen = start is None and end is None
        rates_from = start
        if no_days_chosen:
            today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            rates_from = today - timedelta(days=RATES_DAYS)
        items = access.visible_items(request.user).filter(**breach_filter.item_filters())
        counts = metrics.breach_counts(breaches)
        query = partial(_query, request.GET)
        soon = at_risk(
            items.at_risk(now=now)
            .select_related("owner", "team", "policy")
            .prefetch_related("subject")
            .order_by("due_at", "id")[: AT_RISK_SHOWN + 1],
            now,
        )
        rates = metrics.breach_rate_by_rep(items, start=rates_from, end=end, now=now)
        context.update(
            counts=summary(counts, query),
            rep_rows=rep_lines(counts.by_rep, rates, query),
            speed=metrics.speed_to_first_touch(items, start=rates_from, end=end),
            at_risk=soon[:AT_RISK_SHOWN],
            more_at_risk=len(soon) > AT_RISK_SHOWN,
            period=(start, end),
            rates_from=rates_from if no_days_chosen else None,
            rates_days=RATES_DAYS,
        )
    context.update(
        _list_context(request, breaches, now),
        at_risk_window=format_minutes(settings.WORK_AT_RISK_MINUTES),
    )
    template = "work/_review.html" if is_htmx(request) else "work/breach_review.html"
    return render(request, template, context)


def _next_url(request) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("work:breaches")


@login_required
@require_POST
def acknowledge(request, pk):
    """Acknowledge one breach with a note. htmx gets the row back (with the error, if any);
    a plain form post goes back to the review with a message."""
    _require(access.may_review_breaches(request.user))
    visible = access.visible_breaches(request.user)
    breach = get_object_or_404(visible, pk=pk)  # 404 for another team's breach
    form = AcknowledgeForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = " ".join(form.errors.get("note", ["Check the note."])), 400
    else:
        try:
            services.acknowledge_breach(breach_id=breach.pk, by=request.user, note=form.cleaned_data["note"])
        except Refused as exc:
            error, status = str(exc), exc.status
    if is_htmx(request):
        context = {
            "row": late_breaches(for_list(visible, timezone.now()).filter(pk=breach.pk))[0],
            "ack_form": form if status == 400 else AcknowledgeForm(),
            "error": error,
            "next_url": _next_url(request),
        }
        return render(request, "work/_breach_row.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Breach acknowledged.")
    return redirect(_next_url(request))
