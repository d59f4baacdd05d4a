"""The SDR's qualify & hand-off form: BANT with notes, the meeting to propose, the AE.

The rules of what may be handed off live in ``Qualifying.problems`` (shared with the service and
the API): this form only parses the inputs (choices, a number, a time typed in the SDR's team
calendar time) and puts each problem beside its field.
"""

import zoneinfo
from datetime import datetime
from typing import cast

from django import forms
from django.utils import timezone

from kit import bounds
from team.models import User

from ..access import handoff_recipients
from ..models import Qualification
from ..services import Qualifying

NOTE_MAX = 2000
BANT = (
    ("budget", "Budget", "Is there money for it, and how much?"),
    ("authority", "Authority", "Who decides, and is this person one of them?"),
    ("need", "Need", "What problem must they solve? The AE opens the meeting with it."),
    ("timing", "Timing", "When do they want it solved?"),
)


def _note(label: str, placeholder: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": placeholder}),
    )


def _criterion(label: str) -> forms.CharField:
    # Not a ChoiceField: an empty or unknown value is one of Qualifying.problems' cases, so the
    # message comes from there (the same as the API's) rather than from a second rule here.
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.RadioSelect(choices=Qualification.choices),
    )


class AeChoiceField(forms.ModelChoiceField):
    """An active AE, or none for the territory's round-robin."""

    def label_from_instance(self, user: User) -> str:
        team = f" · {user.team.name}" if user.team is not None else ""
        return f"{user}{team}" + (" (away)" if user.is_away else "")


class HandoffForm(forms.Form):
    """What the SDR found out, the meeting to propose, and who gets it."""

    MEETING_FORMAT = "%Y-%m-%dT%H:%M"

    budget = _criterion("Budget")
    budget_note = _note("Budget note", BANT[0][2])
    authority = _criterion("Authority")
    authority_note = _note("Authority note", BANT[1][2])
    need = _criterion("Need")
    need_note = _note("Need note", BANT[2][2])
    timing = _criterion("Timing")
    timing_note = _note("Timing note", BANT[3][2])
    asked_for_meeting = forms.BooleanField(label="The prospect asked for the meeting", required=False)
    proposed_meeting_at = bounds.DateTimeField(
        label="Proposed meeting",
        required=False,
        input_formats=[MEETING_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MEETING_FORMAT),
        error_messages={"invalid": "Enter a date and time."},
    )
    amount = bounds.MoneyField(
        label="Estimated amount",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "placeholder": "Optional"}),
    )
    ae = AeChoiceField(
        label="Account executive",
        queryset=User.objects.none(),
        required=False,
        empty_label="By territory (round-robin)",
        error_messages={
            "invalid_choice": "Choose an active account executive from the list, or leave it to the "
            "territory's round-robin."
        },
    )

    def __init__(self, *args, tz: zoneinfo.ZoneInfo, now: datetime, **kwargs):
        self.tz = tz
        self.now = now
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["ae"]).queryset = (
            handoff_recipients().select_related("team").order_by("first_name", "last_name", "username")
        )

    def full_clean(self):
        # A naive date and time from the browser means the SDR's calendar time.
        with timezone.override(self.tz):
            super().full_clean()

    def clean(self):
        data = super().clean()
        for field, message in self.qualifying().problems(self.now).items():
            if field not in self.errors:  # a field that did not parse says so first
                self.add_error(field, message)
        return data

    def qualifying(self) -> Qualifying:
        """The qualification as typed (what did not parse counts as empty)."""
        data = self.cleaned_data
        return Qualifying(
            **{name: data.get(name) or "" for name, _, _ in BANT},
            **{f"{name}_note": data.get(f"{name}_note") or "" for name, _, _ in BANT},
            asked_for_meeting=bool(data.get("asked_for_meeting")),
            proposed_meeting_at=data.get("proposed_meeting_at"),
        )

    def bant_rows(self) -> list[tuple]:
        """(label, hint, choice field, note field) per criterion, for the template."""
        return [(label, hint, self[name], self[f"{name}_note"]) for name, label, hint in BANT]
