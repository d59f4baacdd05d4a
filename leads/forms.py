"""Forms for the public web-form endpoint and the lead pages (the import's upload and mapping
screen among them)."""

from dataclasses import dataclass
from typing import cast

from django import forms

from kit import csvfiles
from kit.csvfiles import ImportFormatError
from team.models import Team

from . import cleaning, import_status, importing
from .access import lead_owners, may_share_view
from .models import CAPTURABLE_ACTIVITIES, Campaign, ImportJob, Lead, SavedView


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
    """The upload: a CSV or an XLSX workbook, checked as far as its header row (so a file that
    cannot be read is a form error, not a failed job); the columns are mapped next."""

    file = forms.FileField(label="CSV or XLSX file (Salesforce, HubSpot or any export with an email column)")

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; split it and import the parts.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        head = upload.read(4096)
        upload.seek(0)
        sheet_type = importing.sheet_type_of(upload.name or "", head)
        if sheet_type == "csv" and b"\x00" in head:
            raise forms.ValidationError("This is not a CSV text file nor an XLSX workbook.")
        try:
            self.preview = importing.preview(upload, sheet_type=sheet_type, rows=0)
        except ImportFormatError as exc:
            raise forms.ValidationError(str(exc)) from exc
        finally:
            upload.seek(0)
        self.sheet_type = sheet_type
        return upload


FIELD_CHOICES = [("", "(ignore)")] + [
    (key, importing.FIELD_LABELS[key]) for key in importing.FIELD_LABELS if key in importing.CANONICAL_KEYS
]
TAG_MAX_LENGTH = 50
TAGS_MAX = 20


@dataclass(frozen=True)
class StatusRow:
    """One value of the file's status or lifecycle-stage column, and how many rows hold it."""

    key: str  # the status_map key ("status:<value>" or "stage:<value>")
    kind: str  # "Status" or "Lifecycle stage"
    value: str
    count: int


class MappingForm(forms.Form):
    """The mapping screen: each column's field (``column_<i>``), each status value's outcome
    (``outcome_<i>``) and the import's options. ``headers`` is the file's header row,
    ``suggested`` the suggested key per column, ``statuses`` the file's status values."""

    merge_policy = forms.ChoiceField(
        choices=ImportJob.MergePolicy.choices,
        initial=ImportJob.MergePolicy.FILL_BLANKS,
        widget=forms.RadioSelect,
        label="People already known",
    )
    owner = forms.ModelChoiceField(
        queryset=lead_owners().filter(is_active=True).order_by("first_name", "username"),
        required=False,
        empty_label="(routed as usual)",
        help_text="Give every new lead to this SDR.",
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="(none)")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(),
        required=False,
        empty_label="(none)",
        help_text="Credit the imported leads to a campaign.",
    )
    tags = forms.CharField(
        required=False, max_length=1000, help_text="Comma-separated, e.g. trade show, 2026, migrated"
    )

    def __init__(self, *args, headers: list[str], suggested: list[str], statuses: list[StatusRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.statuses = statuses
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                choices=FIELD_CHOICES,
                required=False,
                initial=suggested[index] if index < len(suggested) else "",
                label=f"Field for column {index + 1} ({header[:60]})",
            )
        for index, row in enumerate(statuses):
            self.fields[f"outcome_{index}"] = forms.ChoiceField(
                choices=ImportJob.Outcome.choices,
                required=False,  # left out, a value takes its default
                initial=(
                    import_status.default_status_outcome(row.value)
                    if row.kind == "Status"
                    else import_status.default_stage_outcome(row.value)
                ),
                label=f"{row.kind} {row.value[:60]}",
            )

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def outcome_fields(self):
        return [self[f"outcome_{index}"] for index in range(len(self.statuses))]

    def clean_tags(self) -> list[str]:
        names: list[str] = []
        for part in self.cleaned_data.get("tags", "").split(","):
            name = " ".join(part.split())
            if not name or name.casefold() in {n.casefold() for n in names}:
                continue
            if len(name) > TAG_MAX_LENGTH:
                raise forms.ValidationError(f"A tag is at most {TAG_MAX_LENGTH} characters: {name[:60]!r}.")
            if name.startswith(csvfiles.FORMULA_STARTS):
                raise forms.ValidationError(f"A tag cannot start with {name[0]!r}.")
            names.append(name)
        if len(names) > TAGS_MAX:
            raise forms.ValidationError(f"At most {TAGS_MAX} tags per import.")
        return names

    def clean(self):
        data = super().clean()
        mapping = [data.get(f"column_{index}", "") or "" for index in range(len(self.headers))]
        columns_of: dict[str, list[int]] = {}
        for index, key in enumerate(mapping):
            if key:
                columns_of.setdefault(key, []).append(index)
        for key, indexes in columns_of.items():
            if len(indexes) > 1:
                names = ", ".join(repr(self.headers[index][:40]) for index in indexes)
                message = f"{importing.FIELD_LABELS[key]} is chosen for several columns ({names}); keep one."
                for index in indexes:
                    self.add_error(f"column_{index}", message)
        if "email" not in columns_of:
            self.add_error(
                None, "Choose the column that holds the email: a lead without one cannot be imported."
            )
        data["mapping"] = mapping
        data["status_map"] = {
            row.key: data.get(f"outcome_{index}") or self.fields[f"outcome_{index}"].initial
            for index, row in enumerate(self.statuses)
        }
        return data


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
