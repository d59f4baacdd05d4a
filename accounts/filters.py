"""The app's FilterSets, each shared by a page and the API: opportunities (the pipeline pages,
board and list, and the opportunities API) and target accounts (the target list and its API).

The AEs a manager may pick are those of the teams they manage, so another team's AE is a
validation error ("select a valid choice"), never an empty page that confirms the id exists.
"""

import django_filters
from django import forms
from django.db.models import F, Q

from kit import bounds
from leads.models import Campaign
from team.models import User

from .access import aes_managed_by, prospector_choices
from .models import Account, Opportunity, Stage

# name -> ordering; ties are broken by id so pages never repeat or skip a row.
SORTS = {
    "close_date": (F("close_date").asc(nulls_last=True), "id"),
    "-close_date": (F("close_date").desc(nulls_last=True), "-id"),
    "amount": (F("amount").asc(nulls_last=True), "id"),
    "-amount": (F("amount").desc(nulls_last=True), "-id"),
    "newest": ("-handed_off_at", "-id"),
}
SORT_LABELS = {
    "close_date": "Close date (soonest first)",
    "-close_date": "Close date (latest first)",
    "amount": "Amount (smallest first)",
    "-amount": "Amount (largest first)",
    "newest": "Newest handoff first",
}


def _aes(request):
    if request is None:
        return User.objects.none()
    return aes_managed_by(request.user).order_by("first_name", "last_name", "username")


class OpportunityFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        close = cleaned.get("close")
        if close and close.start and close.stop and close.start > close.stop:
            self.add_error("close", "The first day is after the last day.")
        return cleaned


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Opportunity or account", "type": "search"}),
    )
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), empty_label="Any stage")
    status = django_filters.MultipleChoiceFilter(
        choices=Opportunity.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    # ?close_after=2026-01-01&close_before=2026-03-31: expected close dates, both days included.
    close = bounds.DateFromToRangeFilter(field_name="close_date", label="Close date")
    origin = django_filters.ChoiceFilter(choices=Opportunity.Origin.choices, empty_label="Any origin")
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), empty_label="Any campaign")
    ae = django_filters.ModelChoiceFilter(field_name="owner", queryset=_aes, empty_label="Any AE", label="AE")
    sort = django_filters.ChoiceFilter(
        method="sort_by", label="Sort", choices=list(SORT_LABELS.items()), empty_label="Close date"
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []
        form = OpportunityFilterForm

    def search(self, queryset, name, value):
        words = value.split()[:4]
        q = Q()
        for word in words:
            q &= Q(name__icontains=word) | Q(account__name__icontains=word)
        return queryset.filter(q)

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["close_date"]))


def _prospector_choices(request):
    """A manager narrows to any of their outbound SDRs; an SDR only to themself."""
    if request is None or not request.user.is_authenticated:
        return User.objects.none()
    return prospector_choices(request.user)


class TargetAccountFilter(django_filters.FilterSet):
    """Search by name or domain; managers narrow to one SDR."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or domain", "type": "search"}),
    )
    prospector = django_filters.ModelChoiceFilter(
        queryset=lambda request: _prospector_choices(request),
        label="Outbound SDR",
        empty_label="Every SDR",
    )

    class Meta:
        model = Account
        fields = ["q", "prospector"]

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value.lower()))
