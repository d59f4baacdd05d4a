"""The manager's early losses: opportunities lost soon after the AE accepted them, by SDR,
and the handoffs AEs rejected, by reason."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.pages import query_string

from ..access import (
    reviews_early_losses,
)
from ..models import Opportunity
from ..presenters.early_losses import loss_rows, sdr_losses

LOSSES_PER_PAGE = 50
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}


@login_required
@require_GET
def early_losses(request):
    """Opportunities lost soon after the AE accepted them, in the teams a manager runs (by the
    AE's team or the SDR's), with counts by SDR, and the handoffs AEs rejected, by reason."""
    user = request.user
    if not reviews_early_losses(user):
        raise PermissionDenied("Early losses are for managers.")
    period = request.GET.get("period") or "90"
    status = 200
    if period not in PERIODS:
        period, status = "90", 400
    days = PERIODS[period]
    since = timezone.now() - timedelta(days=days) if days else None
    # Handoffs only: renewals and upsells are the AMs' and never handed off.
    scope = Opportunity.objects.visible_to(user).filter(kind=Opportunity.Kind.NEW_BUSINESS)

    losses = scope.filter(early_loss=True)
    rejected = scope.filter(status=Opportunity.Status.REJECTED)
    accepted_q, rejected_q = Q(accepted_at__isnull=False), Q(rejected_at__isnull=False)
    if since is not None:
        losses = losses.filter(closed_at__gte=since)
        rejected = rejected.filter(rejected_at__gte=since)
        accepted_q, rejected_q = Q(accepted_at__gte=since), Q(rejected_at__gte=since)

    rows = (
        losses.select_related("sdr", "owner", "campaign", "account")
        .annotate(to_loss=ExpressionWrapper(F("closed_at") - F("accepted_at"), output_field=DurationField()))
        .order_by("-closed_at", "-id")
    )
    page = Paginator(rows, LOSSES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = loss_rows(page.object_list)
    by_sdr = sdr_losses(
        losses.order_by()
        .values("sdr", "sdr__first_name", "sdr__last_name", "sdr__username")
        .annotate(n=Count("pk"))
        .order_by("-n", "sdr__first_name", "sdr__username")
    )
    reasons = list(
        rejected.order_by().values("reject_reason").annotate(n=Count("pk")).order_by("-n", "reject_reason")
    )
    answers = scope.aggregate(
        accepted=Count("pk", filter=accepted_q), rejected=Count("pk", filter=rejected_q)
    )
    answered = answers["accepted"] + answers["rejected"]
    context = {
        "page": page,
        "by_sdr": by_sdr,
        "reasons": reasons,
        "answers": answers,
        "answered": answered,
        "acceptance_rate": round(100 * answers["accepted"] / answered) if answered else None,
        "period": period,
        "periods": [("30", "30 days"), ("90", "90 days"), ("365", "12 months"), ("all", "All time")],
        "period_error": "Choose a period from the list." if status == 400 else "",
        "query": query_string(request.GET),
    }
    return render(request, "accounts/early_losses.html", context, status=status)
