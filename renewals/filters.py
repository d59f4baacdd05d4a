"""The accounts list's FilterSet, shared by the page (``/accounts/``) and the API
(``/api/v1/accounts/``). It filters a queryset annotated by ``renewals.book.with_figures``.

The AMs a manager may pick are those of the teams they manage, so another team's AM is a
validation error ("select a valid choice"), never an empty page that confirms the id exists.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from team.models import User

from .access import account_managers_for
from .book import Status

RENEWAL_WITHIN_MAX = 3660  # ten years: any contract's renewal, and nothing that overflows a date

# name -> ordering; ties broken by name and id so pages never repeat or skip a row.
SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "value": ("annual_value", "name", "id"),
    "-value": ("-annual_value", "name", "id"),
    "renewal": (F("next_renewal").asc(nulls_last=True), "name", "id"),
    "-renewal": (F("next_renewal").desc(nulls_last=True), "name", "id"),
}
SORT_LABELS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "value": "Annual value (smallest first)",
    "-value": "Annual value (largest first)",
    "renewal": "Next renewal (soonest first)",
    "-renewal": "Next renewal (latest first)",
}


def _ams(request):
    if request is None or not request.user.is_authenticated:
        return User.objects.none()
    return account_managers_for(request.user)


class WholeNumberFilter(django_filters.NumberFilter):
    """A number of days: whole, or "enter a whole number"."""

    field_class = forms.IntegerField


class AccountBookFilter(django_filters.FilterSet):
    """Customer or not, a renewal within N days, at risk, one AM (for a manager), sorted."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name or domain", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(
        method="by_status", choices=Status.CHOICES, empty_label="Any status", label="Status"
    )
    renewal_within = WholeNumberFilter(
        method="renewing_within",
        label="Renewal within (days)",
        min_value=0,
        max_value=RENEWAL_WITHIN_MAX,
        widget=forms.NumberInput(attrs={"min": 0, "max": RENEWAL_WITHIN_MAX, "step": 1}),
    )
    risk = django_filters.ChoiceFilter(
        method="by_risk",
        label="Risk",
        choices=[("true", "At risk"), ("false", "Not at risk")],
        empty_label="Any",
    )
    owner = django_filters.ModelChoiceFilter(
        field_name="account_manager", queryset=_ams, empty_label="Every AM", label="Account manager"
    )
    sort = django_filters.ChoiceFilter(
        method="sort_by", label="Sort", choices=list(SORT_LABELS.items()), empty_label="Next renewal"
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value.lower()))

    def by_status(self, queryset, name, value):
        return queryset.filter(Status.CONDITIONS[value])

    def by_risk(self, queryset, name, value):
        return queryset.filter(at_risk=value == "true")

    def renewing_within(self, queryset, name, value):
        # A renewal already past its end and still open is within any horizon.
        return queryset.filter(next_renewal__lte=timezone.localdate() + timedelta(days=value))

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS[value])
