"""The lead list and a lead's page, with what a rep does there: log an activity, rate it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kit.htmx import is_htmx
from kit.pages import query_string
from work.models import WorkItem

from .. import services
from ..access import can_work_leads, get_lead_for_user, require
from ..filters import LeadFilter
from ..forms import ActivityForm, RatingForm
from ..models import ActivitySource, Lead, ScoringSettings
from ..presenters import scored
from ..scoring import compute_fit

LEADS_PER_PAGE = 50


@login_required
def lead_list(request):
    require(can_work_leads(request.user))
    queryset = Lead.objects.visible_to(request.user).with_list_relations()
    lead_filter = LeadFilter(request.GET or None, queryset=queryset, request=request)
    leads = lead_filter.qs if lead_filter.is_bound else queryset.order_by("-captured_at", "-id")
    if lead_filter.is_bound and not lead_filter.is_valid():
        leads = queryset.none()
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filter": lead_filter,
        "page": page,
        "rows": scored(page.object_list),
        "query": query_string(request.GET),
    }
    template = "leads/_lead_table.html" if is_htmx(request) else "leads/lead_list.html"
    return render(request, template, context)


def _detail_context(request, lead: Lead, **extra) -> dict:
    scoring = ScoringSettings.load()
    return {
        "lead": lead,
        "scored": scored([lead], scoring)[0],
        "fit": compute_fit(lead),
        "scoring": scoring,
        "timeline": lead.timeline(),
        "work_items": list(
            WorkItem.objects.for_subject(lead)
            .select_related("policy", "owner", "breach")
            .order_by("-created_at", "-id")[:20]
        ),
        "activity_form": ActivityForm(),
        "rating_form": RatingForm(initial={"rating": lead.rating}),
        **extra,
    }


@login_required
def lead_detail(request, pk):
    lead = get_lead_for_user(request.user, pk)
    return render(request, "leads/lead_detail.html", _detail_context(request, lead))


@login_required
@require_POST
def log_activity(request, pk):
    lead = get_lead_for_user(request.user, pk)
    form = ActivityForm(request.POST)
    status = 200
    if form.is_valid():
        services.log_activity(
            lead_id=lead.pk,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
            actor=request.user,
            via=ActivitySource.MANUAL,
        )
        lead = get_lead_for_user(request.user, pk)
        context = _detail_context(request, lead)
    else:
        status = 400
        context = _detail_context(request, lead, activity_form=form)
    if is_htmx(request):
        return render(request, "leads/_lead_live.html", context, status=status)
    if status == 200:
        messages.success(request, "Activity logged.")
        return redirect(lead)
    return render(request, "leads/lead_detail.html", context, status=status)


@login_required
@require_POST
def set_rating(request, pk):
    lead = get_lead_for_user(request.user, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, lead, rating_form=form)
        template = "leads/_lead_live.html" if is_htmx(request) else "leads/lead_detail.html"
        return render(request, template, context, status=400)
    services.set_rating(lead_id=lead.pk, rating=form.cleaned_data["rating"], actor=request.user)
    lead = get_lead_for_user(request.user, pk)
    if is_htmx(request):
        return render(request, "leads/_lead_live.html", _detail_context(request, lead))
    messages.success(request, "Rating saved.")
    return redirect(lead)
