"""The form of the cadence control: which active cadence to enroll a lead in."""

from django import forms

from ..models import Cadence
from ..services.cadences import active_cadences


class EnrollForm(forms.Form):
    cadence = forms.ModelChoiceField(
        queryset=Cadence.objects.none(),
        empty_label="Choose a cadence…",
        error_messages={
            "required": "Choose a cadence.",
            "invalid_choice": "Choose an active cadence.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadence"].queryset = active_cadences()
