"""A template's name, subject and body (merge fields checked by ``mail.services``), and
whether it is shared (offered to those who may write shared templates)."""

from django import forms

from kit import bounds

from .common import ONE_LINE


class TemplateForm(forms.Form):
    name = forms.CharField(
        max_length=100, validators=ONE_LINE, error_messages={"required": "Give the template a name."}
    )
    subject = forms.CharField(
        max_length=300, validators=ONE_LINE, error_messages={"required": "Write a subject."}
    )
    body = forms.CharField(
        max_length=20_000,
        strip=False,
        validators=[bounds.validate_utf8],
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": "Write the email."},
    )
    shared = forms.BooleanField(label="Shared with everyone", required=False)

    def __init__(self, *args, may_share: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_share:
            del self.fields["shared"]
