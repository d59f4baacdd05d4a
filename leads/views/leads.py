"""The lead list and a lead's page, with what a rep does there: log an activity, rate it."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kit.htmx import is_htmx
from kit.pages import BoundedPaginator, query_string
from work.models import WorkItem

from .. import learned, services
from ..access import can_import, can_work_leads, get_lead_for_user, may_change_view, require
from ..filters import LeadFilter, clean_list_query
from ..forms import ActivityForm, RatingForm, SavedViewForm
from ..models import ActivitySource, Lead, LeadRedirect, SavedView, ScoringSettings
from ..presenters import provenance, scored
from ..scoring import compute_fit

LEADS_PER_PAGE = 50
# The list counts this many leads at most ("10,000+"): an unfiltered list of a million leads
# would otherwise count them all on every view (tens of milliseconds of the page's time).
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class ListQuery:
    """What the lead list shows: the filter data, the saved view it came from (if any) and
    what the page says about it (a view whose filters no longer all apply)."""

    data: QueryDict
    view: SavedView | None
    notices: list[str]


def list_query(request, views: list[SavedView]) -> ListQuery:
    """The filters the list applies. ``?view=<id>`` alone opens a saved view (its stored
    query); with filters beside it the list shows those filters, the view staying the one an
    update would overwrite; a bare URL opens the person's default view. A view's query is
    re-validated here as any URL is: keys no filter reads any more, and a sort that is not
    offered, are dropped and said."""
    by_id = {str(view.pk): view for view in views}
    notices: list[str] = []
    asked = request.GET.get("view")
    view = by_id.get(asked or "")
    if asked and view is None:
        notices.append("That saved view no longer exists or is no longer shared with you.")
    others = set(request.GET) - {"view", "page"}
    if not request.GET:
        view = next((v for v in views if v.is_default and v.owner_id == request.user.pk), None)
    opened = view is not None and not others
    data, dropped = clean_list_query(QueryDict(view.query) if opened and view else request.GET)
    if opened and view and dropped:
        notices.append(
            f"The view “{view.name}” uses filters that no longer exist ({', '.join(dropped)}); "
            "they are left out. Update the view to save it without them."
        )
    return ListQuery(data=data, view=view, notices=notices)


@login_required
def lead_list(request):
    require(can_work_leads(request.user))
    views = list(SavedView.objects.visible_to(request.user).select_related("owner").order_by("name", "id"))
    asked = list_query(request, views)
    queryset = Lead.objects.visible_to(request.user).with_list_relations()
    lead_filter = LeadFilter(asked.data or None, queryset=queryset, request=request)
    leads = lead_filter.qs if lead_filter.is_bound else queryset.order_by("-captured_at", "-id")
    notices = list(asked.notices)
    if lead_filter.is_bound and not lead_filter.is_valid():
        leads = queryset.none()
        if asked.view is not None:
            notices.append(f"Some filters of the view “{asked.view.name}” no longer apply; see below.")
    page = BoundedPaginator(leads, LEADS_PER_PAGE, limit=COUNT_LIMIT).get_page(request.GET.get("page"))
    current = asked.data.urlencode()
    context = {
        "filter": lead_filter,
        "page": page,
        "rows": scored(page.object_list),
        "query": query_string(request.GET),
        "current_query": current,
        "views": views,
        "my_views": [view for view in views if view.owner_id == request.user.pk],
        "shared_views": [view for view in views if view.owner_id != request.user.pk],
        "active_view": asked.view,
        "may_change_active": asked.view is not None and may_change_view(request.user, asked.view),
        "active_changed": asked.view is not None and current != asked.view.query,
        "view_notices": notices,
        "save_form": SavedViewForm(user=request.user, initial={"query": current}),
    }
    template = "leads/_lead_table.html" if is_htmx(request) else "leads/lead_list.html"
    return render(request, template, context)


def _detail_context(request, lead: Lead, **extra) -> dict:
    scoring = ScoringSettings.load()
    return {
        "lead": lead,
        "scored": scored([lead], scoring)[0],
        "fit": compute_fit(lead),
        "learned": learned.explain(lead),
        "scoring": scoring,
        "timeline": lead.timeline(),
        "provenance": provenance(lead),
        "may_see_imports": can_import(request.user),
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
    try:
        lead = get_lead_for_user(request.user, pk)
    except Http404:
        # A lead merged into another (dedupe): its old address opens the survivor, for whoever
        # may see the survivor (anyone else gets the same 404 as for any lead not theirs).
        survivor = LeadRedirect.objects.filter(old_id=pk).values_list("lead_id", flat=True).first()
        if survivor is None or not Lead.objects.visible_to(request.user).filter(pk=survivor).exists():
            raise
        return redirect("leads:detail", survivor)
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
