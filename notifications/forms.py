from django import forms

from .models import Kind


class EmailChoiceForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Also send me an email for",
    )
