"""The breach review's reads, shared by the page and the API: what a reviewer may see
(``work.access``: ``visible_breaches``, ``visible_items``), the rows a list shows
(``for_list``), and one FilterSet.

The choices a manager may pick (reps, teams) are those of the teams they manage, so a rep or
team outside them is a validation error ("select a valid choice"), never an empty page that
would confirm the id exists.
"""

from datetime import datetime

import django_filters
from django import forms
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, QuerySet, Value
from django.db.models.functions import Coalesce

from kit import bounds
from team.access import managed_teams, reps_managed_by
from team.models import Team, User

from .models import Breach, SlaPolicy

YES_NO = [("true", "Yes"), ("false", "No")]


def _reps(request):
    if request is None:
        return User.objects.none()
    # Only what an option is ordered by and labelled with (``User.__str__``).
    names = ("first_name", "last_name", "username")
    return reps_managed_by(request.user).order_by(*names).only(*names)


def _teams(request):
    if request is None:
        return Team.objects.none()
    return managed_teams(request.user)


def for_list(breaches: QuerySet[Breach], now) -> QuerySet[Breach]:
    """Breaches with what a row shows, newest first: one query for the rows, their work
    items and acknowledgers, one each for their reps, teams and policies, one per kind of subject
    (leads today) for the subjects. ``late_by`` is how long after its due time the
    item was done (or closed), or has been waiting so far if it is still open."""
    late_by = ExpressionWrapper(
        Coalesce(F("work_item__completed_at"), Value(now, output_field=DateTimeField())) - F("due_at"),
        output_field=DurationField(),
    )
    # The reps, teams and policies are read apart: joined too, the statement cost PostgreSQL
    # more to plan (8-12 ms at a million leads) than its rows cost to read.
    return (
        breaches.select_related("work_item", "acknowledged_by")
        .prefetch_related("owner", "team", "policy", "work_item__subject")
        .annotate(late_by=late_by)
        .order_by("-due_at", "-id")
    )


class BreachFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        due = cleaned.get("due")
        if due and due.start and due.stop and due.start > due.stop:
            self.add_error("due", "The first day is after the last day.")
        return cleaned


class BreachFilter(django_filters.FilterSet):
    rep = django_filters.ModelChoiceFilter(
        field_name="owner", queryset=_reps, empty_label="Any rep", label="Rep"
    )
    team = django_filters.ModelChoiceFilter(queryset=_teams, empty_label="Any team")
    policy = django_filters.ModelChoiceFilter(queryset=SlaPolicy.objects.all(), empty_label="Any policy")
    # ?due_after=2025-03-01&due_before=2025-03-31: whole days (both included), in TIME_ZONE.
    due = bounds.DateFromToRangeFilter(field_name="due_at", label="Due")
    acknowledged = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_acknowledged", empty_label="Any", label="Acknowledged"
    )

    class Meta:
        model = Breach
        fields: list[str] = []
        form = BreachFilterForm

    def filter_acknowledged(self, queryset, name, value):
        return queryset.filter(acknowledged_at__isnull=value != "true")

    # The same choices for the review's other numbers, which count work items rather than
    # breaches: rep, team and policy as lookups, and the chosen days as a period that each
    # number applies to its own column (due time, first-touch time).

    def period(self) -> tuple[datetime | None, datetime | None]:
        """The first and last moment of the chosen days (None where open); call after
        ``is_valid()``."""
        due = self.form.cleaned_data.get("due") if self.is_bound and self.is_valid() else None
        return (due.start, due.stop) if due else (None, None)

    def item_filters(self) -> dict:
        """Lookups narrowing work items the way this filter narrows breaches (period aside)."""
        if not (self.is_bound and self.is_valid()):
            return {}
        data = self.form.cleaned_data
        lookups = {}
        if data.get("rep"):
            lookups["owner"] = data["rep"]
        if data.get("team"):
            lookups["team"] = data["team"]
        if data.get("policy"):
            lookups["policy"] = data["policy"]
        return lookups
