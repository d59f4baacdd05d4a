"""The notification pages: the list (newest first, paginated), opening one (marks it read and
goes to its page), marking one or all read, the email choice, and the bell's unread count that
every page polls.

The bell answers with an ETag (the unread count and the newest unread id): the browser asks
again with If-None-Match and, when nothing changed, gets a 304 without a body. Either way it is
one query over the unread index.
"""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kit.htmx import is_htmx
from team.zones import user_zone

from . import access, services
from .filters import NotificationFilter
from .forms import EmailChoiceForm

PER_PAGE = 25


@login_required
@require_GET
def notification_list(request):
    mine = access.own_notifications(request.user)
    filterset = NotificationFilter(request.GET, queryset=mine.newest_first())
    rows = filterset.qs if filterset.is_valid() else mine.none()
    page = Paginator(rows.only("id", "kind", "text", "url", "created_at", "read_at"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "filterset": filterset,
            "query": query.urlencode(),
            "unread_only": request.GET.get("unread") in ("true", "1", "True"),
            "tz": user_zone(request.user),
        },
    )


@login_required
@require_GET
def open_notification(request, pk: int):
    """Mark it read and go to its page (the list when it has none)."""
    notification = services.mark_read(user=request.user, notification_id=pk)
    if notification is None:
        raise Http404
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None, require_https=False):
        return redirect(url)
    return redirect("notifications:list")


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def read_one(request, pk: int):
    if services.mark_read(user=request.user, notification_id=pk) is None:
        raise Http404
    return _back(request)


@login_required
@require_POST
def read_all(request):
    count = services.mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def email_settings(request):
    if request.method == "POST":
        form = EmailChoiceForm(request.POST)
        if form.is_valid():
            services.set_email_kinds(user=request.user, kinds=form.cleaned_data["email_kinds"])
            messages.success(request, "Your email choice is saved.")
            return redirect("notifications:settings")
    else:
        form = EmailChoiceForm(initial={"email_kinds": services.email_kinds(request.user)})
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "has_email": bool(request.user.email)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def bell(request):
    """The unread count for the top bar (one query), with an ETag for the poll."""
    unread = access.own_notifications(request.user).unread().aggregate(count=Count("id"), newest=Max("id"))
    tag = hashlib.sha256(f"{request.user.pk}:{unread['count']}:{unread['newest']}".encode()).hexdigest()[:16]
    etag = f'"{tag}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = render(
            request, "notifications/_bell.html", {"unread": unread["count"], "htmx": is_htmx(request)}
        )
    response["ETag"] = etag
    # Stored by the browser, always asked again: the poll costs a 304 when nothing changed.
    response["Cache-Control"] = "private, no-cache"
    return response
