"""One FilterSet for the lead list, shared by the page and the API."""

import re

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import QueryDict
from django.utils import timezone

from kit import bounds

from .access import lead_owners
from .models import Campaign, Channel, ImportJob, Lead, Tag
from .scoring import digit_key_range

GRADE_RE = re.compile(r"^\s*([ABCD])?\s*([1-4])?\s*$", re.IGNORECASE)

# The first is the default (no ``sort``), and the menu's first option.
SORTS = {
    "newest": lambda qs: qs.order_by("-captured_at", "-id"),
    "grade": lambda qs: qs.order_by_grade(),
    "engagement": lambda qs: qs.order_by_engagement(),
    "oldest": lambda qs: qs.order_by("captured_at", "id"),
    "fit": lambda qs: qs.order_by("-fit_score", "-id"),
}


class StrictBooleanField(forms.TypedChoiceField):
    """true/false (or 1/0); anything else is a validation error, not silently ignored. The menu
    offers each answer once; 1 and 0 are accepted as spellings of the same two."""

    SPELLINGS = ("1", "0")

    def __init__(self, *args, **kwargs):
        kwargs["choices"] = [("", "Any"), ("true", "Yes"), ("false", "No")]
        kwargs["coerce"] = lambda value: value in ("true", "1")
        kwargs["empty_value"] = None
        super().__init__(*args, **kwargs)

    def valid_value(self, value):
        return str(value) in self.SPELLINGS or super().valid_value(value)


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def _owner_queryset(request):
    # Only what an option is ordered by and labelled with (``User.__str__``): about a thousand.
    return lead_owners().order_by("first_name", "username").only("first_name", "last_name", "username")


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name, company or email", "type": "search"}),
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Lead.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    grade = django_filters.CharFilter(
        method="filter_grade",
        label="Grade",
        widget=forms.TextInput(attrs={"placeholder": "A, A1, 2…", "size": 6}),
    )
    owner = django_filters.ModelChoiceFilter(queryset=_owner_queryset, empty_label="Any")
    unassigned = StrictBooleanFilter(field_name="owner", lookup_expr="isnull", label="Unassigned")
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), empty_label="Any")
    source = django_filters.ChoiceFilter(choices=Channel.choices)
    hand_raiser = StrictBooleanFilter(label="Hand-raiser")
    rating = django_filters.ChoiceFilter(choices=Lead.Rating.choices)
    captured = bounds.IsoDateTimeFromToRangeFilter(field_name="captured_at")
    tag = django_filters.CharFilter(
        method="filter_tag",
        label="Tag",
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "salesforce-2026", "size": 14}),
    )
    # ``?import=N`` (a keyword in Python, so declared under another name and renamed below).
    from_import = django_filters.ModelChoiceFilter(
        queryset=ImportJob.objects.all(),
        field_name="import_links__job",  # what the filter reads (and the schema types it by)
        method="filter_import",
        label="From import #",
        widget=forms.NumberInput(attrs={"min": 1, "size": 6}),
        error_messages={"invalid_choice": "There is no import with this number."},
    )
    sort = django_filters.ChoiceFilter(
        # No empty option: it would be a second "Newest" (the default, listed first).
        method="sort_by",
        label="Sort",
        choices=[(k, k.title()) for k in SORTS],
        empty_label=None,
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.filter(email__startswith=value.lower())
        words = value.split()[:4]
        q = Q()
        for word in words:
            q &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(company__icontains=word)
                | Q(email__icontains=word)
            )
        return queryset.filter(q)

    def filter_grade(self, queryset, name, value):
        match = GRADE_RE.match(value or "")
        if not match:
            # A grade that is not A-D and 1-4 matches nothing rather than everything.
            return queryset.none()
        letter, digit = match.groups()
        if letter:
            queryset = queryset.filter(fit_grade=letter.upper())
        if digit:
            low, high = digit_key_range(int(digit), timezone.now())
            if low is not None:
                queryset = queryset.filter(engagement_key__gte=low)
            if high is not None:
                queryset = queryset.filter(engagement_key__lt=high)
        return queryset

    def filter_tag(self, queryset, name, value):
        """The leads with this tag, whatever its case; an unknown tag matches nobody."""
        value = value.strip()
        if not value:
            return queryset
        tags = Tag.objects.annotate(folded=Lower("name")).filter(folded=value.lower())
        return queryset.filter(tags__in=tags)

    def filter_import(self, queryset, name, value):
        """The leads an import touched (created, updated or found unchanged): a lead has one
        link per import, so no row repeats."""
        return queryset.filter(import_links__job=value)

    def sort_by(self, queryset, name, value):
        return SORTS.get(value, SORTS["newest"])(queryset)


def _rename_filter(filterset: type[django_filters.FilterSet], old: str, new: str) -> None:
    """Serve a filter under a query key that cannot be a Python name, keeping its place."""
    for filters in (filterset.base_filters, filterset.declared_filters):
        renamed = {(new if key == old else key): value for key, value in filters.items()}
        filters.clear()
        filters.update(renamed)


_rename_filter(LeadFilter, "from_import", "import")


def list_params() -> frozenset[str]:
    """The query-string keys the lead list reads: each filter's (a range filter's two, e.g.
    ``captured_after`` and ``captured_before``) and ``sort``."""
    keys: set[str] = set()
    for name, field in LeadFilter.base_filters.items():
        suffixes = getattr(field.field_class.widget, "suffixes", None)
        if suffixes:
            keys.update(f"{name}_{suffix}" for suffix in suffixes)
        else:
            keys.add(name)
    return frozenset(keys)


def clean_list_query(params: QueryDict) -> tuple[QueryDict, list[str]]:
    """``params`` narrowed to what the lead list reads (blank values and the page left out),
    and what was dropped as no longer meaning anything: keys no filter reads, and a sort that
    is not one of ``SORTS`` (the list then sorts by the default). A saved view is stored as
    the first, and opened through it again, so a filter removed since is dropped with a
    message rather than failing."""
    known = list_params()
    kept = QueryDict(mutable=True)
    dropped = []
    for key in params:
        values = [value for value in params.getlist(key) if value != ""]
        if key == "page" or not values:
            continue
        if key not in known:
            dropped.append(key)
        elif key == "sort" and values[-1] not in SORTS:
            dropped.append(f"sort {values[-1][:40]!r}")
        else:
            kept.setlist(key, values[:50])
    return kept, dropped
