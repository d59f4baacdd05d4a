"""The pipeline as a CSV file (``/pipeline/export/``): every opportunity of the pipeline (an
AE's own, a manager's teams') that its filters select, board or list alike, streamed
(``accounts.exports``); the results' "Export CSV" link carries the page's query."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.views.decorators.http import require_GET

from kit.exporting import refused_page

from ..access import pipeline_opportunities, sees_pipeline
from ..exports import OPPORTUNITY_EXPORT
from ..filters import SORTS, OpportunityFilter


@login_required
@require_GET
def pipeline_export(request):
    if not sees_pipeline(request.user):
        raise PermissionDenied("The pipeline is the AEs' and their managers'.")
    scope = pipeline_opportunities(request.user).pipeline().order_by(*SORTS["close_date"])
    opp_filter = OpportunityFilter(request.GET or None, queryset=scope, request=request)
    if opp_filter.is_bound and not opp_filter.is_valid():
        back = f"{reverse('accounts:pipeline')}?{request.GET.urlencode()}"
        return refused_page(request, what="opportunities", errors=opp_filter.form.errors, back=back)
    opportunities = opp_filter.qs if opp_filter.is_bound else scope
    return OPPORTUNITY_EXPORT.response(request, opportunities, name="opportunities")
