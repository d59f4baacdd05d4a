"""The renewals app's FilterSets, each shared by a page and its API:

- ``AccountBookFilter``: the accounts list (``/accounts/``, ``/api/v1/accounts/``), over a queryset
  annotated by ``renewals.book.with_figures``. The AMs a manager may pick are those of the teams
  they manage, so another team's AM is a validation error, never an empty page that confirms the
  id exists.
- ``RenewalFilter``: the renewals page and ``GET /api/v1/renewals/``: ``am`` (an AM the caller
  looks across), ``risk=1`` (only the renewals at risk) and ``bucket`` (30, 60 or 90: due in 30
  days, in 31-60, in 61-90). A value outside its choices is a 400 naming the parameter (the page
  shows the message and leaves that filter out), never an empty page.
"""

from datetime import date, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.forms import ModelChoiceField
from django.utils import timezone

from accounts.models import Account
from team.models import User

from .access import account_managers_for, looks_across_ams
from .book import Status
from .due import BUCKETS, Risk, bucket_q
from .models import Contract

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


def _book_ams(request):
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
        field_name="account_manager", queryset=_book_ams, empty_label="Every AM", label="Account manager"
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


class _AmField(ModelChoiceField):
    """An AM's id among those already read for the page (``known``), without reading them again;
    the queryset when none were (an AM, who may only name themself)."""

    known: list[User] | None = None

    def to_python(self, value):
        if value in self.empty_values or self.known is None:
            return super().to_python(value)
        chosen = next((am for am in self.known if str(am.pk) == str(value).strip()), None)
        if chosen is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return chosen


class _AmFilter(django_filters.ModelChoiceFilter):
    field_class = _AmField


def _ams(request) -> QuerySet[User]:
    """The AMs the caller may narrow to: a manager's AM teams' (all for a superuser); an AM
    only themself."""
    if request is None:
        return User.objects.none()
    user = request.user
    return account_managers_for(user) if looks_across_ams(user) else User.objects.filter(pk=user.pk)


class RenewalFilter(django_filters.FilterSet):
    """The renewals page's and API's filters: ``RenewalFilter(params, queryset=risk.scope(
    due_contracts(...)), request=request, risk=risk, today=today, ams=ams)``; ``is_valid()``,
    then ``qs`` (a filter whose value is refused is left out of it, as the page wants)."""

    am = _AmFilter(
        field_name="account__account_manager",
        queryset=_ams,
        label="Account manager",
        help_text="An account manager's user id: their renewals only (one of the AMs you look across).",
        error_messages={"invalid_choice": "Choose an account manager from the list."},
    )
    risk = django_filters.ChoiceFilter(
        choices=(("1", "Only the renewals at risk"), ("0", "Every renewal")),
        method="filter_risk",
        error_messages={"invalid_choice": "Choose 1 (only the renewals at risk) or 0."},
        help_text="1: only the renewals at risk (no conversation logged, contacts gone quiet, or a "
        "renewal item breached).",
    )
    bucket = django_filters.ChoiceFilter(
        choices=tuple((str(days), title) for days, title in BUCKETS),
        method="filter_bucket",
        error_messages={"invalid_choice": "Choose 30, 60 or 90 days."},
        help_text="30: due in 30 days (and those past their end, still open); 60: in 31-60 days; "
        "90: in 61-90 days.",
    )

    class Meta:
        model = Contract
        fields: list[str] = []

    def __init__(
        self,
        *args,
        risk: Risk | None = None,
        today: date | None = None,
        ams: list[User] | None = None,
        **kwargs,
    ) -> None:
        """``risk`` and ``today``: the rules the filters apply; ``ams``: the AMs the caller looks
        across, when the caller has read them already."""
        super().__init__(*args, **kwargs)
        self.risk, self.today = risk, today
        if ams is not None:
            field = self.form.fields["am"]
            assert isinstance(field, _AmField)
            field.known = ams

    def filter_risk(self, queryset, name, value):
        if value != "1":
            return queryset
        assert self.risk is not None  # given by the view
        return queryset.filter(self.risk.any)

    def filter_bucket(self, queryset, name, value):
        assert self.today is not None  # given by the view
        return queryset.filter(bucket_q(int(value), self.today))
