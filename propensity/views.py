"""The "Best customers" page and the one-step application of its suggested profile weights."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kit.errors import Refused

from . import services
from .access import may_apply_suggestions, require_best_customers
from .forms import ApplySuggestionsForm
from .presenters import suggestions, summaries


@login_required
def best_customers(request):
    require_best_customers(request.user)
    return render(request, "propensity/best_customers.html", _context(request))


def _context(request, form: ApplySuggestionsForm | None = None) -> dict:
    return {
        "summaries": summaries(),
        "suggestions": suggestions(),
        "may_apply": may_apply_suggestions(request.user),
        "form": form,
        "min_outcomes": settings.PROPENSITY_MIN_OUTCOMES,
    }


@login_required
@require_POST
def apply_suggestions(request):
    require_best_customers(request.user)
    if not may_apply_suggestions(request.user):
        raise PermissionDenied("Only those who may change the ideal-customer profile apply its suggestions.")
    form = ApplySuggestionsForm(request.POST)
    if not form.is_valid():
        return render(request, "propensity/best_customers.html", _context(request, form), status=400)
    shown = suggestions()
    if shown.version is None or shown.version.pk != form.cleaned_data["version"]:
        form.add_error(None, "The model behind these suggestions is no longer in use: reload the page.")
        return render(request, "propensity/best_customers.html", _context(request, form), status=409)
    try:
        changed = services.apply_suggestions(
            version_id=shown.version.pk,
            suggestions={r.criterion.pk: r.suggested for r in shown.rows},
            then=partial(_say_rescored, request),
        )
    except Refused as exc:
        form.add_error(None, str(exc))
        return render(request, "propensity/best_customers.html", _context(request, form), status=exc.status)
    if changed:
        messages.success(request, f"{changed} criteria changed.")
    else:
        messages.info(request, "The profile already has the suggested weights.")
    return redirect("propensity:best_customers")


def _say_rescored(request, queued: bool) -> None:
    if queued:
        messages.info(request, "Every lead's fit score is being recomputed in the background.")
    else:
        messages.error(
            request,
            "The profile is saved, but the task queue is unreachable: fit scores were not recomputed. "
            "Save the profile again in the admin once the queue is back.",
        )
