"""Forms for the public web-form endpoint and the lead pages."""

from typing import cast

from django import forms

from . import cleaning
from .access import may_share_view
from .models import CAPTURABLE_ACTIVITIES, Campaign, Lead, SavedView


class CaptureForm(forms.Form):
    """What a marketing site may post. Every value goes through the same cleaning as an
    import, so a form fill and a CSV row of the same person store the same values."""

    email = forms.CharField(max_length=254)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=150, required=False, label="Job title")
    phone = forms.CharField(max_length=40, required=False)
    country = forms.CharField(max_length=60, required=False)
    industry = forms.CharField(max_length=100, required=False)
    employees = forms.CharField(max_length=40, required=False, label="Company size")
    message = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    wants_call = forms.BooleanField(required=False, label="I'd like a call")

    TEXT_FIELDS = {"first_name": 100, "last_name": 100, "company": 200, "title": 150}

    def clean_email(self):
        try:
            return cleaning.normalize_email(self.cleaned_data["email"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def _clean_text(self, name):
        try:
            return cleaning.clean_text(
                self.cleaned_data.get(name, ""), self.TEXT_FIELDS[name], self[name].label
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_first_name(self):
        return self._clean_text("first_name")

    def clean_last_name(self):
        return self._clean_text("last_name")

    def clean_company(self):
        return self._clean_text("company")

    def clean_title(self):
        return self._clean_text("title")

    def clean_phone(self):
        try:
            return cleaning.clean_phone(self.cleaned_data.get("phone", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_message(self):
        return cleaning.neutralize_formula(self.cleaned_data.get("message", "").strip())

    def details(self) -> dict:
        """The lead fields this submission provides, normalized."""
        data = self.cleaned_data
        return {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "company": data["company"],
            "title": data["title"],
            "seniority": cleaning.seniority_from_title(data["title"]),
            "industry": cleaning.normalize_industry(data.get("industry", "")),
            "employees": cleaning.parse_employees(data.get("employees", "")),
            "country": cleaning.normalize_country(data.get("country", "")),
            "phone": data["phone"],
        }


class WebFormSubmission(CaptureForm):
    # A field people never see; bots fill it. Named like a real field on purpose.
    website = forms.CharField(required=False, label="Leave this empty")

    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        choices=CAPTURABLE_ACTIVITIES,
        label="Activity",
    )
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RatingForm(forms.Form):
    rating = forms.ChoiceField(choices=Lead.Rating.choices, required=False, label="Your rating")


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV export (Salesforce, HubSpot or any CSV with an email column)")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(), required=False, help_text="Credit the imported leads to a campaign."
    )

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; split it and import the parts.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        head = upload.read(4096)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError("This is not a CSV text file.")
        return upload


class SavedViewForm(forms.Form):
    """Save the lead list's current filters and sort under a name, or rename and reshare a
    saved view. ``query`` is the list's query string as the page holds it; the service
    re-validates it. The scopes offered are those the person may give."""

    name = forms.CharField(max_length=80)
    scope = forms.ChoiceField(choices=SavedView.Scope.choices, label="Shared with")
    is_default = forms.BooleanField(required=False, label="Open it when I open the lead list")
    query = forms.CharField(max_length=4000, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(value, label) for value, label in SavedView.Scope.choices if may_share_view(user, value)]
        cast(forms.ChoiceField, self.fields["scope"]).choices = choices
