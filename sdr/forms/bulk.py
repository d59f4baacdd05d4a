"""The lead list's bulk-action form: which action, on which leads (the rows chosen, or all the
leads the list's filters match), and what the action needs (a rep, a reason, a cadence)."""

from typing import cast

from django import forms

from kit import bounds
from team.models import User

from ..access import may_assign_leads
from ..models import Cadence
from ..services import DISQUALIFY_REASONS, NURTURE_REASONS
from ..services.cadences import active_cadences
from .reassign import ROUND_ROBIN, RepChoiceField, target_reps

ACTIONS = {
    "assign": "Assign to a rep",
    "nurture": "Move to nurture",
    "disqualify": "Disqualify",
    "enroll": "Enroll in a cadence",
    "export": "Export as CSV",
}
# The rows a page can show are 50; the cap keeps a forged post from naming millions of ids.
MAX_CHOSEN = 500


class LeadIdsField(forms.Field):
    """The ids of the rows chosen (``lead=1&lead=2``): whole numbers, at most ``MAX_CHOSEN``."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if len(values) > MAX_CHOSEN:
            raise forms.ValidationError(
                f"Choose at most {MAX_CHOSEN} rows, or all the leads the filter matches."
            )
        ids = []
        for raw in values:
            try:
                pk = int(str(raw))
            except ValueError:
                raise forms.ValidationError("Choose rows of the list.") from None
            if not 1 <= pk <= bounds.INT_MAX:
                raise forms.ValidationError("Choose rows of the list.")
            ids.append(pk)
        return list(dict.fromkeys(ids))


class BulkForm(forms.Form):
    """One bulk action. ``step`` is ``review`` (show what will happen, with the count) or
    ``apply``; ``count`` is the number of leads the person confirmed, so "all matching" acts
    only if the filter still matches as many."""

    action = forms.ChoiceField(
        choices=list(ACTIONS.items()),
        error_messages={"required": "Choose an action.", "invalid_choice": "Choose an action from the list."},
    )
    step = forms.ChoiceField(choices=[("review", "review"), ("apply", "apply")], required=False)
    scope = forms.ChoiceField(
        choices=[("selected", "The rows chosen"), ("matching", "All the leads the filter matches")],
        required=False,
    )
    lead = LeadIdsField(required=False)
    query = forms.CharField(max_length=4000, required=False, widget=forms.HiddenInput)
    count = forms.IntegerField(
        min_value=0, max_value=bounds.INT_MAX, required=False, widget=forms.HiddenInput
    )
    to = RepChoiceField(
        queryset=User.objects.none(), required=False, empty_label=ROUND_ROBIN, label="Give them to"
    )
    assign_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Goes on each lead's timeline.",
    )
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason…")],
        required=False,
        error_messages={"invalid_choice": "Choose a reason from the list."},
    )
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.TextInput(attrs={"placeholder": "Note (optional)"})
    )
    cadence = forms.ModelChoiceField(
        queryset=Cadence.objects.none(),
        required=False,
        empty_label="Choose a cadence…",
        error_messages={"invalid_choice": "Choose an active cadence."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ModelChoiceField, self.fields["to"]).queryset = target_reps(user, exclude=None)
        cast(forms.ModelChoiceField, self.fields["cadence"]).queryset = active_cadences()
        action = self.data.get("action") if self.is_bound else None
        reasons = NURTURE_REASONS if action == "nurture" else DISQUALIFY_REASONS
        cast(forms.ChoiceField, self.fields["reason"]).choices = [
            ("", "Choose a reason…"),
            *((r, r) for r in reasons),
        ]

    @property
    def changes_leads(self) -> bool:
        return self.cleaned_data.get("action") != "export"

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        cleaned["scope"] = cleaned.get("scope") or "selected"
        cleaned["step"] = cleaned.get("step") or "review"
        if cleaned["scope"] == "selected" and not cleaned.get("lead") and "lead" not in self.errors:
            self.add_error("lead", "Choose at least one row, or all the leads the filter matches.")
        if action == "assign" and not may_assign_leads(self.user):
            self.add_error("action", "Only managers assign leads.")
        if cleaned["step"] != "apply":
            return cleaned
        if action == "assign" and not cleaned.get("assign_reason", "").strip():
            self.add_error("assign_reason", "Say why the leads are assigned; it goes on their timelines.")
        if action in ("nurture", "disqualify") and not cleaned.get("reason"):
            self.add_error("reason", "Choose a reason.")
        if action == "enroll" and not cleaned.get("cadence"):
            self.add_error("cadence", "Choose a cadence.")
        if cleaned["scope"] == "matching" and cleaned.get("count") is None:
            self.add_error("count", "Confirm how many leads to act on.")
        return cleaned
