"""Forms for the breach review."""

from django import forms

NOTE_MAX = 2000


class AcknowledgeForm(forms.Form):
    """A manager has seen a breach; the note says what was done about it (optional)."""

    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "What was done (optional)", "maxlength": NOTE_MAX}),
    )
