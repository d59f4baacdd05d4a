"""The lead list as a CSV file (``/leads/export/``): the leads the person sees that the list's
filters select, every one of them, streamed (``leads.exports``). The list's "Export CSV" link
carries its current query (a saved view already resolved to its filters)."""

from django.contrib.auth.decorators import login_required
from django.urls import reverse
from django.views.decorators.http import require_GET

from kit.exporting import refused_page

from ..access import can_work_leads, require
from ..exports import LEAD_EXPORT
from ..filters import LeadFilter, clean_list_query
from ..models import Lead


@login_required
@require_GET
def lead_export(request):
    require(can_work_leads(request.user))
    data, _dropped = clean_list_query(request.GET)  # keys the list does not read are left out, as there
    leads = Lead.objects.visible_to(request.user).order_by("-captured_at", "-id")
    lead_filter = LeadFilter(data or None, queryset=leads, request=request)
    if lead_filter.is_bound:
        if not lead_filter.is_valid():
            back = f"{reverse('leads:list')}?{data.urlencode()}"
            return refused_page(request, what="leads", errors=lead_filter.errors, back=back)
        leads = lead_filter.qs
    return LEAD_EXPORT.response(request, leads, name="leads")
