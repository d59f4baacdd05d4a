"""Forms of the AE's pages: reject a handoff, move an opportunity to another stage, edit its
amount, close date and next step.

The forms parse and type the input; the rules (a lost opportunity needs a reason, a won one
an amount, a rejection a note) are the services' and come back as ``AccountsError`` with the
field at fault, which the views put beside that field (``kit.errors.add_refusal``).
"""

from django import forms

from kit import bounds

from ..models import LOST_REASONS, REJECT_REASONS, Stage

NOTE_MAX = 2000


class RejectForm(forms.Form):
    """Turn a handoff down: a reason from the list and a note for the SDR."""

    reason = forms.ChoiceField(
        choices=[("", "Why are you rejecting it?"), *[(r, r) for r in REJECT_REASONS]],
        error_messages={
            "required": "Choose a reason.",
            "invalid_choice": "Choose a reason from the list.",
        },
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What the SDR should know (required)"}),
        error_messages={"required": "Tell the SDR why, in a note: it is how they learn what to hand off."},
    )


class StageField(forms.ModelChoiceField):
    default_error_messages = {"invalid_choice": "Choose one of the pipeline's stages."}


class MoveForm(forms.Form):
    """Move to another stage; a lost stage takes a reason, a note and whether to give the lead
    back to marketing."""

    stage = StageField(
        queryset=Stage.objects.filter(is_active=True),
        empty_label=None,
        error_messages={"required": "Choose a stage."},
    )
    lost_reason = forms.ChoiceField(
        required=False,
        label="Why was it lost?",
        choices=[("", "Choose a reason…"), *[(r, r) for r in LOST_REASONS]],
        error_messages={"invalid_choice": "Choose a reason from the list."},
    )
    lost_note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Note (optional)"}),
    )
    recycle = forms.BooleanField(required=False, label="Recycle the lead to marketing")


class DetailsForm(forms.Form):
    """The AE's working details."""

    amount = bounds.MoneyField(
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "placeholder": "Amount"}),
    )
    close_date = bounds.DateField(
        required=False,
        label="Close date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    next_step = forms.CharField(
        required=False,
        max_length=300,
        label="Next step",
        widget=forms.TextInput(attrs={"placeholder": "Next step"}),
    )
