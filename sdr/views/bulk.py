"""Bulk actions on the lead list: the list's form posts here (``sdr`` sits above ``leads``, so
enrolling in a cadence and assigning to a rep can be offered beside nurture and disqualify).

Thin: the leads are only those the person sees on the list (``Lead.objects.visible_to``): the
rows chosen, or every lead the list's filters match (re-validated by ``LeadFilter``, as the list
does). An action that changes leads first shows a review page with how many leads it will touch;
applying it calls one ``sdr.services.bulk`` function and shows its per-lead report. "All
matching" applies only if the filter still matches the number confirmed. An export streams the
rows as the lead list's CSV file (``leads.exports``, as ``/leads/export/`` does)."""

from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_POST

from kit.errors import Refused, add_refusal
from leads.access import can_work_leads, require
from leads.exports import LEAD_EXPORT
from leads.filters import LeadFilter, clean_list_query
from leads.models import Lead, LeadQuerySet

from .. import services
from ..forms import ACTIONS, BulkForm

REVIEW = "sdr/bulk_review.html"
RESULT = "sdr/bulk_result.html"
SAMPLE = 20  # leads named on the review page
SELECTION = {"action", "lead", "scope", "query", "step"}  # the fields that say which leads, and what


def chosen_leads(form: BulkForm, user) -> LeadQuerySet | None:
    """The leads the form names, among those ``user`` sees, in the list's order; ``None``
    (with the error on the form) when some chosen row is not on their list or the filters
    have errors."""
    visible = Lead.objects.visible_to(user).with_list_relations()
    data = form.cleaned_data
    if data["scope"] == "matching":
        params, _dropped = clean_list_query(QueryDict(data["query"]))
        lead_filter = LeadFilter(params or None, queryset=visible)
        if lead_filter.is_bound and not lead_filter.is_valid():
            form.add_error("query", "The list's filters have errors; fix them on the list first.")
            return None
        return lead_filter.qs if lead_filter.is_bound else visible.order_by("-captured_at", "-id")
    ids = data["lead"]
    leads = visible.filter(pk__in=ids).order_by("-captured_at", "-id")
    found = leads.count()
    if found != len(ids):
        missing = len(ids) - found
        form.add_error(
            "lead",
            f"{missing} of the rows chosen {'is' if missing == 1 else 'are'} not on your list any more; "
            "reload the list and choose again.",
        )
        return None
    return leads


def _apply(form: BulkForm, user, ids: list[int]) -> services.BulkReport:
    data = form.cleaned_data
    action = data["action"]
    if action == "assign":
        return services.bulk_assign(lead_ids=ids, to=data["to"], by=user, reason=data["assign_reason"])
    if action == "enroll":
        return services.bulk_enroll(lead_ids=ids, cadence_id=data["cadence"].pk, by=user)
    to = Lead.Status.NURTURE if action == "nurture" else Lead.Status.DISQUALIFIED
    return services.bulk_dispose(lead_ids=ids, by=user, to=to, reason=data["reason"], note=data["note"])


def _review(request, form: BulkForm, leads: LeadQuerySet | None, count: int | None, status: int = 200):
    sample = list(leads[:SAMPLE]) if leads is not None and count else []
    context = {
        "form": form,
        "action": form.data.get("action"),
        "action_label": ACTIONS.get(form.data.get("action", ""), "Bulk action"),
        "count": count,
        "sample": sample,
        "more": (count or 0) - len(sample),
        "too_many": (count or 0) > services.MAX_BULK_LEADS,
        "max_leads": services.MAX_BULK_LEADS,
    }
    return render(request, REVIEW, context, status=status)


@login_required
@require_POST
def bulk(request):
    require(can_work_leads(request.user))
    form = BulkForm(request.POST, user=request.user)
    valid = form.is_valid()
    if not valid and SELECTION & set(form.errors):
        return _review(request, form, None, None, status=400)
    leads = chosen_leads(form, request.user)
    if leads is None:
        return _review(request, form, None, None, status=400)
    if not valid:
        # What the action needs (a reason, a rep, a cadence) is missing or wrong: the review
        # again, with the leads and the errors beside the fields.
        return _review(request, form, leads, leads.count(), status=400)
    data = form.cleaned_data
    if data["action"] == "export":
        return LEAD_EXPORT.response(request, leads, name="leads")
    count = leads.count()
    if data["step"] != "apply":
        return _review(request, form, leads, count)
    if data["scope"] == "matching" and data["count"] != count:
        form.add_error(
            "count",
            f"The filter now matches {count:,} leads, not {data['count']:,}; check them and confirm again.",
        )
        return _review(request, form, leads, count, status=400)
    if count > services.MAX_BULK_LEADS:
        form.add_error(
            None, f"Choose at most {services.MAX_BULK_LEADS:,} leads at a time; narrow the filter."
        )
        return _review(request, form, leads, count, status=400)
    ids = list(leads.values_list("pk", flat=True))
    try:
        report = _apply(form, request.user, ids)
    except Refused as exc:
        add_refusal(form, exc)
        return _review(request, form, leads, count, status=400)
    context = {
        "report": report,
        "action_label": ACTIONS[data["action"]],
        "back": f"?{data['query']}" if data["query"] else "",
    }
    return render(request, RESULT, context)
