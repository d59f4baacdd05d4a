"""The person duplicates: the finder's pairs (``people``), a pair side by side with a choice per
differing field (``people_merge``: GET shows, POST merges), and dismissing a pair."""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Contact, Opportunity
from kit.errors import add_refusal
from leads.models import Activity, Lead, LeadEvent, LeadImport, LeadRedirect
from mail.models import Message
from sdr.models import Enrollment
from work.models import WorkItem

from ..access import get_pair_for_user, require_people_merging
from ..models import DismissedPair, Kind
from ..people import RULE_LABELS, Group, Pair, find_people_cached, forget_found
from ..services import LEAD_FIELDS, MergeRefused, default_choice, default_survivor, merge_leads

PAIRS_PER_PAGE = 25

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "company": "Company",
    "title": "Title",
    "seniority": "Seniority",
    "industry": "Industry",
    "employees": "Employees",
    "annual_revenue": "Annual revenue",
    "country": "Country",
    "phone": "Phone",
    "campaign": "Campaign",
    "source": "Source",
    "rating": "Rating",
    "external": "Source system record",
}


@dataclass(frozen=True)
class PairRow:
    """One proposed pair as the list shows it: the lead to keep first."""

    survivor: Lead
    merged: Lead
    strength: int
    evidence: list[str]


@dataclass(frozen=True)
class GroupRow:
    rule: str
    key: str
    size: int
    leads: list[Lead]


def _evidence(pair: Pair, a: Lead, b: Lead) -> list[str]:
    said = []
    for rule in pair.rules:
        if rule == "company":
            said.append(f"{RULE_LABELS[rule]}: {a.name}, {a.company} / {b.company}")
        elif rule == "phone":
            said.append(f"{RULE_LABELS[rule]} {a.phone}" + (f" / {b.phone}" if b.phone != a.phone else ""))
        else:
            said.append(f"{RULE_LABELS[rule]}: {a.name}, @{a.email.rpartition('@')[2]}")
    return said


@login_required
def people(request):
    require_people_merging(request.user)
    visible = Lead.objects.visible_to(request.user)
    found = find_people_cached(user=request.user, leads=visible)
    page = Paginator(found.pairs, PAIRS_PER_PAGE).get_page(request.GET.get("page"))
    groups: list[Group] = found.groups[:20]
    ids = {i for p in page for i in (p.first_id, p.second_id)} | {i for g in groups for i in g.sample_ids}
    leads = {lead.pk: lead for lead in visible.select_related("owner").filter(pk__in=ids)}
    rows = []
    for pair in page:
        a, b = leads.get(pair.first_id), leads.get(pair.second_id)
        if a is None or b is None:  # merged or deleted since the finder ran
            continue
        survivor, merged = default_survivor(a, b)
        rows.append(PairRow(survivor, merged, pair.strength, _evidence(pair, a, b)))
    group_rows = [
        GroupRow(
            RULE_LABELS[g.rule],
            g.key.replace("|", " · "),
            g.size,
            [leads[i] for i in g.sample_ids if i in leads],
        )
        for g in groups
    ]
    return render(
        request,
        "dedupe/people_list.html",
        {"page": page, "rows": rows, "groups": group_rows, "group_count": len(found.groups)},
    )


class LeadMergeForm(forms.Form):
    """A radio per field the two leads differ in: keep the survivor's value or the merged
    lead's. Every one must be answered."""

    def __init__(self, *args, keys: list[str], initial_choices: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for key in keys:
            self.fields[key] = forms.ChoiceField(
                label=FIELD_LABELS[key],
                choices=[("survivor", "Keep the survivor's"), ("merged", "Take the merged lead's")],
                widget=forms.RadioSelect,
                initial=initial_choices[key],
            )


@dataclass(frozen=True)
class FieldRow:
    key: str
    label: str
    survivor_value: str
    merged_value: str
    field: forms.BoundField | None


def _shown(lead: Lead, key: str) -> str:
    if key == "campaign":
        return str(lead.campaign) if lead.campaign_id else ""
    if key == "external":
        return f"{lead.external_system} {lead.external_id}".strip() + (
            f" ({lead.external_status})" if lead.external_status else ""
        )
    fields = LEAD_FIELDS[key]
    value = getattr(lead, fields[0])
    display = getattr(lead, f"get_{fields[0]}_display", None)
    if display and value:
        return str(display())
    return "" if value is None else str(value)


def _differing(survivor: Lead, merged: Lead) -> list[str]:
    return [
        key
        for key, fields in LEAD_FIELDS.items()
        if [getattr(survivor, f) for f in fields] != [getattr(merged, f) for f in fields]
    ]


def _count(model, **match):
    field, value = next(iter(match.items()))
    return Coalesce(
        Subquery(
            model.objects.filter(**{field: value})
            .order_by()
            .values(field)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _what_moves(merged_id: int, survivor_id: int) -> dict[int, dict]:
    """What each of the two leads holds that a merge moves, counted in one query."""
    lead_type = ContentType.objects.get_for_model(Lead)
    rows = (
        Lead.objects.filter(pk__in=[merged_id, survivor_id])
        .annotate(
            n_activities=_count(Activity, lead=OuterRef("pk")),
            n_events=_count(LeadEvent, lead=OuterRef("pk")),
            n_emails=_count(Message, lead=OuterRef("pk")),
            n_opportunities=_count(Opportunity, lead=OuterRef("pk")),
            n_enrollments=_count(Enrollment, lead=OuterRef("pk")),
            n_imports=_count(LeadImport, lead=OuterRef("pk")),
            n_contacts=_count(Contact, lead=OuterRef("pk")),
            n_work_items=Coalesce(
                Subquery(
                    WorkItem.objects.filter(content_type=lead_type, object_id=OuterRef("pk"))
                    .order_by()
                    .values("object_id")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
            n_tags=Count("tags", distinct=True),
        )
        .values(
            "pk",
            "n_activities",
            "n_events",
            "n_emails",
            "n_opportunities",
            "n_enrollments",
            "n_imports",
            "n_contacts",
            "n_work_items",
            "n_tags",
        )
    )
    return {row["pk"]: dict(row) for row in rows}


def _gone_or_404(*ids) -> None:
    """A pair whose lead was merged meanwhile: say so (409) instead of a bare 404."""
    for pk in ids:
        try:
            survivor_id = (
                LeadRedirect.objects.filter(old_id=int(pk)).values_list("lead_id", flat=True).first()
            )
        except (TypeError, ValueError):
            survivor_id = None
        if survivor_id is not None:
            raise MergeRefused(f"Lead {pk} was already merged into lead {survivor_id}.")
    raise Http404("No such pair.")


@login_required
def people_merge(request, merged_id, survivor_id):
    require_people_merging(request.user)
    try:
        survivor, merged = get_pair_for_user(request.user, survivor_id, merged_id)
    except Http404:
        try:
            _gone_or_404(survivor_id, merged_id)
        except MergeRefused as exc:
            return render(request, "dedupe/people_gone.html", {"reason": str(exc)}, status=409)
    keys = _differing(survivor, merged)
    initial = {key: default_choice(key, survivor, merged) for key in keys}
    status = 200
    if request.method == "POST":
        form = LeadMergeForm(request.POST, keys=keys, initial_choices=initial)
        if form.is_valid():
            try:
                merge_leads(survivor=survivor, merged=merged, chosen=form.cleaned_data, by=request.user)
            except MergeRefused as exc:
                add_refusal(form, exc)
                status = exc.status
            else:
                forget_found()
                messages.success(request, f"Lead {merged.pk} ({merged.email}) was merged into this lead.")
                return redirect("leads:detail", survivor.pk)
        else:
            status = 400
    else:
        form = LeadMergeForm(keys=keys, initial_choices=initial)
    rows = [
        FieldRow(
            key,
            FIELD_LABELS[key],
            _shown(survivor, key),
            _shown(merged, key),
            form[key] if key in form.fields else None,
        )
        for key in LEAD_FIELDS
    ]
    counts = _what_moves(merged.pk, survivor.pk)
    return render(
        request,
        "dedupe/people_merge.html",
        {
            "survivor": survivor,
            "merged": merged,
            "form": form,
            "rows": rows,
            "differing": bool(keys),
            "moves": counts.get(merged.pk, {}),
            "keeps": counts.get(survivor.pk, {}),
        },
        status=status,
    )


@login_required
@require_POST
def people_dismiss(request, first_id, second_id):
    a, b = get_pair_for_user(request.user, first_id, second_id)
    low, high = sorted((a.pk, b.pk))
    DismissedPair.objects.get_or_create(
        kind=Kind.LEAD, first_id=low, second_id=high, defaults={"dismissed_by": request.user}
    )
    forget_found()
    messages.success(request, f"Leads {low} and {high} will not be proposed again.")
    return redirect("dedupe:people")
