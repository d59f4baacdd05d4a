"""Lead pages and the public web-form endpoint. Thin: parse, authorize, call a service, render."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kit.htmx import is_htmx
from kit.ratelimit import client_address, over_limit
from kit.throttle import seconds_left
from work.models import WorkItem

from . import services, tasks
from .access import can_import, can_work_leads, get_lead_for_user
from .filters import LeadFilter
from .forms import ActivityForm, ImportForm, RatingForm, WebFormSubmission
from .models import ActivitySource, ImportJob, Lead, ScoringSettings, WebForm
from .scoring import compute_fit

LEADS_PER_PAGE = 50
ERRORS_PER_PAGE = 100


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


@login_required
def lead_list(request):
    _require(can_work_leads(request.user))
    queryset = Lead.objects.visible_to(request.user).with_list_relations()
    lead_filter = LeadFilter(request.GET or None, queryset=queryset, request=request)
    leads = lead_filter.qs if lead_filter.is_bound else queryset.order_by("-captured_at", "-id")
    if lead_filter.is_bound and not lead_filter.is_valid():
        leads = queryset.none()
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    _score_for_display(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": lead_filter, "page": page, "query": query.urlencode()}
    template = "leads/_lead_table.html" if is_htmx(request) else "leads/lead_list.html"
    return render(request, template, context)


def _score_for_display(leads, scoring: ScoringSettings | None = None) -> None:
    """Today's engagement and grade for each lead shown, reading the settings once."""
    now, half_life = timezone.now(), (scoring or ScoringSettings.load()).half_life_days
    for lead in leads:
        lead.engagement_now = lead.engagement(now, half_life)
        lead.grade_now = lead.grade(now, half_life)


def _detail_context(request, lead: Lead, **extra) -> dict:
    scoring = ScoringSettings.load()
    _score_for_display([lead], scoring)
    return {
        "lead": lead,
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


# --- imports --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    _require(can_import(request.user))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            job = ImportJob.objects.create(
                uploaded_by=request.user,
                file=upload,
                original_name=upload.name[:255],
                campaign=form.cleaned_data["campaign"],
            )
            transaction.on_commit(partial(tasks.enqueue_import, job.pk))
        return redirect("leads:import_detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("uploaded_by", "campaign")[:20]
    status = 400 if form.is_bound else 200
    return render(request, "leads/import_list.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def import_detail(request, pk):
    _require(can_import(request.user))
    job = get_object_or_404(ImportJob.objects.select_related("uploaded_by", "campaign"), pk=pk)
    errors = Paginator(job.row_errors.all(), ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"job": job, "errors": errors}
    template = "leads/_import_progress.html" if is_htmx(request) else "leads/import_detail.html"
    return render(request, template, context)


# --- the public web form ----------------------------------------------------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _form_response(request, web_form, form, status, *, thanked=False):
    if _wants_json(request):
        body = (
            {"ok": True, "message": web_form.thank_you_message}
            if thanked
            else {"ok": False, "errors": form.errors}
        )
        response = JsonResponse(body, status=status)
    else:
        template = "leads/webform_thanks.html" if thanked else "leads/webform.html"
        response = render(request, template, {"web_form": web_form, "form": form}, status=status)
    # Marketing sites post from their own origin; the answer carries no credentials.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def web_form(request, key):
    """The public capture endpoint. No CSRF token is possible from a marketing site, so it is
    protected by its key, a honeypot field, a size limit and a per-client rate limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.WEBFORM_MAX_BYTES:
        return HttpResponse("Submission too large.", status=413, content_type="text/plain")
    web_form = WebForm.active(key)
    if web_form is None:
        raise Http404("No such form.")
    if request.method == "GET":
        return render(request, "leads/webform.html", {"web_form": web_form, "form": WebFormSubmission()})
    if over_limit("webform", client_address(request), settings.WEBFORM_RATE):
        response = HttpResponse(
            "Too many submissions; try again in a minute.", status=429, content_type="text/plain"
        )
        response["Retry-After"] = str(seconds_left(settings.WEBFORM_RATE))
        return response
    form = WebFormSubmission(request.POST)
    if form.is_bot():
        # Answer as if it worked, so the bot learns nothing; store nothing.
        return _form_response(request, web_form, form, 200, thanked=True)
    if not form.is_valid():
        return _form_response(request, web_form, form, 400)
    services.accept_submission(
        web_form=web_form,
        email=form.cleaned_data["email"],
        details=form.details(),
        hand_raiser=form.cleaned_data["wants_call"],
        note=form.cleaned_data["message"],
    )
    return _form_response(request, web_form, form, 200, thanked=True)
