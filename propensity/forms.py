"""The one-step application of the suggested profile weights."""

from django import forms


class ApplySuggestionsForm(forms.Form):
    """The model version the suggestions shown came from: applied only while it is in use."""

    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)
