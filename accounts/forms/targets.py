"""Forms of the target-account pages, and the one FilterSet of the target list (shared by the
page and the API). The rules (domain format and uniqueness, who may be assigned, how a
prospect row is cleaned) live in ``accounts.prospecting``: these forms only parse input."""

import django_filters
from django import forms
from django.db.models import Q

from kit import bounds
from team.models import Role, User

from ..models import Account
from ..services.prospects import assignable_prospectors


class ProspectorChoice(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user} ({user.team})" if user.team_id else str(user)


class TargetAccountForm(forms.Form):
    """A manager names a company and the outbound SDR who prospects it."""

    name = forms.CharField(max_length=200, error_messages={"required": "Name the company."})
    domain = forms.CharField(
        max_length=300,
        help_text="The company's web domain, e.g. acme.com.",
        error_messages={"required": "Enter the company's web domain, e.g. acme.com."},
        widget=forms.TextInput(attrs={"placeholder": "acme.com"}),
    )
    industry = forms.CharField(max_length=100, required=False)
    country = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": "DE"})
    )
    employees = bounds.CountField(required=False)
    prospector = ProspectorChoice(
        queryset=User.objects.none(),
        label="Outbound SDR",
        empty_label="Choose an outbound SDR…",
        error_messages={
            "required": "Choose the outbound SDR who prospects it.",
            "invalid_choice": "Choose an outbound SDR in a team you manage.",
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospector"].queryset = assignable_prospectors(user).select_related("team")


class AssignForm(forms.Form):
    """Give the account to another outbound SDR, or (empty) to nobody."""

    prospector = ProspectorChoice(
        queryset=User.objects.none(),
        required=False,
        label="Outbound SDR",
        empty_label="Nobody (not a target)",
        error_messages={"invalid_choice": "Choose an outbound SDR in a team you manage."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospector"].queryset = assignable_prospectors(user).select_related("team")


class ProspectForm(forms.Form):
    """One prospect typed in by hand. Values are cleaned by ``add_prospects`` as a CSV row is,
    so only the lengths of what the browser sends are bounded here."""

    email = forms.CharField(max_length=254, error_messages={"required": "Enter the prospect's email."})
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    title = forms.CharField(max_length=150, required=False, label="Job title")
    phone = forms.CharField(max_length=40, required=False)
    country = forms.CharField(max_length=60, required=False, help_text="Empty: the account's.")


class ProspectUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A header row with an email column (first name, last name, title, phone, country optional).",
        error_messages={"required": "Choose a CSV file.", "empty": "The file is empty."},
    )


def _prospector_choices(request):
    """A manager narrows to any of their outbound SDRs; an SDR only to themself."""
    if request is None or not request.user.is_authenticated:
        return User.objects.none()
    if request.user.role == Role.OUTBOUND_SDR:
        return User.objects.filter(pk=request.user.pk)
    return assignable_prospectors(request.user)


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
