"""Forms for working the queue: a touch, the next follow-up, a disposition."""

import zoneinfo
from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from kit import bounds
from leads.models import TOUCH_KINDS, ActivityKind, Lead, TouchOutcome

from ..services import DISPOSITIONS, follow_up_time_problem

NOTE_MAX = 2000


class TouchForm(forms.Form):
    """What the rep did (call, email...), how it went and a note: one step."""

    kind = forms.ChoiceField(
        choices=[(k, ActivityKind(k).label) for k in TOUCH_KINDS],
        widget=forms.RadioSelect,
        initial=ActivityKind.CALL,
        error_messages={
            "invalid_choice": "Choose a touch: call, email, voicemail, social or meeting booked."
        },
    )
    outcome = forms.ChoiceField(
        choices=[("", "Outcome…"), *TouchOutcome.choices],
        required=False,
        widget=forms.Select(attrs={"aria-label": "Outcome"}),
        error_messages={"invalid_choice": "Choose an outcome from the list."},
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "Note (optional)", "aria-label": "Note", "autocomplete": "off"}
        ),
    )


class FollowUpForm(forms.Form):
    """When to follow up next, typed in the rep's team calendar time (stored in UTC)."""

    FORMAT = "%Y-%m-%dT%H:%M"

    due_at = bounds.DateTimeField(
        label="Follow up on",
        input_formats=[FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=FORMAT),
        error_messages={"required": "Choose when to follow up.", "invalid": "Enter a date and time."},
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Note (optional)",
                "aria-label": "Follow-up note",
                "autocomplete": "off",
            }
        ),
    )

    def __init__(self, *args, tz: zoneinfo.ZoneInfo, **kwargs):
        self.tz = tz
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("due_at", self.suggested(timezone.now()))

    def suggested(self, now: datetime) -> datetime:
        """Tomorrow at 10:00 in the rep's time: naive and local, as the input shows it."""
        local = timezone.localtime(now, self.tz)
        return (local + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)

    def full_clean(self):
        # A naive date and time from the browser means the rep's calendar time.
        with timezone.override(self.tz):
            super().full_clean()

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if problem := follow_up_time_problem(due_at):
            raise forms.ValidationError(problem)
        return due_at


_GROUP_LABELS: dict[str, str] = {
    Lead.Status.NURTURE: "Nurture (back to marketing)",
    Lead.Status.DISQUALIFIED: "Disqualify",
}


class DispositionForm(forms.Form):
    """Take the lead out of the queue: nurture or disqualify, with a reason from the list."""

    disposition = forms.ChoiceField(
        label="Take out of the queue",
        choices=[
            ("", "Nurture or disqualify: why?"),
            *[
                (_GROUP_LABELS[to], [(f"{to}:{reason}", reason) for reason in reasons])
                for to, reasons in DISPOSITIONS.items()
            ],
        ],
        error_messages={
            "required": "Choose a reason to nurture or disqualify.",
            "invalid_choice": "Choose a reason from the list.",
        },
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "Note (optional)", "aria-label": "Disposition note", "autocomplete": "off"}
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("disposition"):
            data["to"], data["reason"] = data["disposition"].split(":", 1)
        return data
