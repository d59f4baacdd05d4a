"""The form that logs a call, a meeting or a note (the opportunity, account and contract pages
share it). The rules (a note needs its text) are the service's and come back as a refusal
naming the field."""

from django import forms

from ..models import Activity
from ..services import NOTE_MAX


class LogWorkForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Activity.Kind.choices,
        initial=Activity.Kind.CALL,
        widget=forms.RadioSelect,
        label="What",
        error_messages={"required": "Choose a call, a meeting or a note.",
                        "invalid_choice": "Choose a call, a meeting or a note."},
    )  # fmt: skip
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        label="What was said",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Who you spoke to, what was agreed, next step"}
        ),
        error_messages={"max_length": f"Keep it under {NOTE_MAX} characters."},
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == Activity.Kind.NOTE and not (data.get("note") or "").strip():
            self.add_error("note", "Write the note.")
        return data
