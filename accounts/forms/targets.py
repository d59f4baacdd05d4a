"""Forms of the target-account pages. The rules (domain format and uniqueness, how a prospect
row is cleaned) live in ``accounts.services.targets`` and ``.prospects``, who may be assigned
in ``accounts.access``: these forms only parse input."""

from django import forms

from kit import bounds
from team.models import User

from ..access import assignable_prospectors


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
