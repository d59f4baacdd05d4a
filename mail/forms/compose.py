"""The composer: a template to start from, the subject and body (merge fields allowed), and
when to send (now, or a time typed in the sender's calendar time, stored in UTC)."""

import zoneinfo

from django import forms
from django.utils import timezone

from kit import bounds

from .common import ONE_LINE

SEND_AT_FORMAT = "%Y-%m-%dT%H:%M"


class ComposeForm(forms.Form):
    template = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Template",
        error_messages={"invalid_choice": "Choose one of your templates or a shared one."},
    )
    subject = forms.CharField(max_length=300, required=False, validators=ONE_LINE)
    body = forms.CharField(
        max_length=20_000,
        required=False,
        strip=False,
        validators=[bounds.validate_utf8],
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    send_at = bounds.DateTimeField(
        label="Send at",
        required=False,
        input_formats=[SEND_AT_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=SEND_AT_FORMAT),
        error_messages={"invalid": "Enter a date and time."},
    )

    def __init__(self, *args, templates, tz: zoneinfo.ZoneInfo, **kwargs):
        self.tz = tz
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            ("", "No template"),
            *((t.pk, f"{t.name} (shared)" if t.owner_id is None else t.name) for t in templates),
        ]

    def full_clean(self):
        # A naive date and time from the browser means the sender's calendar time.
        with timezone.override(self.tz):
            super().full_clean()
