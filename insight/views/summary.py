"""The weekly summary in the browser: what the email says (or would say) about last week, and
the switch that turns the email off. A person sees their own summary only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .. import summary
from ..models import WeeklySummary
from ..scope import viewer_tz


def _own(request):
    """The signed-in person, if they have a weekly summary at all (not the integration
    account)."""
    if not summary.receives(request.user):
        raise PermissionDenied("There is no weekly summary for your role.")
    return request.user


@login_required
@require_GET
def summary_page(request):
    """Last week's summary (Monday to Sunday in the person's team time zone), counted now."""
    user = _own(request)
    now = timezone.now()
    week = summary.last_week(now, viewer_tz(user))
    built = summary.build(user, week, now=now)
    context = {
        **built.context(site=""),
        "wants": summary.wants(user),
        "latest": WeeklySummary.objects.filter(user=user).order_by("-week").first(),
    }
    return render(request, "insight/summary.html", context)


@login_required
@require_POST
def summary_preference(request):
    """POST ``weekly_summary`` = ``on`` or ``off``."""
    user = _own(request)
    choice = request.POST.get("weekly_summary")
    if choice not in ("on", "off"):
        messages.error(request, "Choose on or off.")
        return redirect("insight:summary")
    summary.set_preference(user=user, on=choice == "on")
    if choice == "on":
        messages.success(request, "You will get the weekly summary every Monday at 08:00.")
    else:
        messages.success(request, "The weekly summary email is off. This page still shows it.")
    return redirect("insight:summary")
