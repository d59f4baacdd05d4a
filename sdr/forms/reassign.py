"""A manager's reassignment forms: one lead, or a rep's whole queue, to a rep or round-robin."""

from typing import cast

from django import forms

from leads.models import Lead
from leads.services import IN_SALES
from team.models import User

from ..access import reps_of

ROUND_ROBIN = "Round-robin across the team"


class RepChoiceField(forms.ModelChoiceField):
    """A rep in the manager's teams, labelled so the manager can choose well."""

    def label_from_instance(self, rep: User) -> str:
        label = f"{rep} ({rep.team})"
        return f"{label} · away" if rep.is_away else label


def target_reps(manager, *, exclude: int | None):
    """The active reps of the manager's teams a lead may go to (``exclude``: its current one)."""
    reps = reps_of(manager).filter(is_active=True).select_related("team")
    if exclude is not None:
        reps = reps.exclude(pk=exclude)
    return reps.order_by("team__name", "first_name", "last_name", "username")


class ReassignLeadForm(forms.Form):
    """Give one lead to another rep (or round-robin); also assigns a lead waiting in the
    team's unassigned queue."""

    to = RepChoiceField(
        queryset=User.objects.none(), required=False, empty_label=ROUND_ROBIN, label="Give it to"
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Goes on the lead's timeline.",
    )

    def __init__(self, *args, manager, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead = lead
        cast(forms.ModelChoiceField, self.fields["to"]).queryset = target_reps(manager, exclude=lead.owner_id)

    def clean(self):
        cleaned = super().clean()
        if self.lead.status not in IN_SALES:
            raise forms.ValidationError(
                f"A lead in {self.lead.get_status_display()} is not in a queue; only MQL and working leads move."
            )
        return cleaned


class ReassignQueueForm(forms.Form):
    """Move every open lead of a rep (who leaves, or is away) to another rep, or share them
    round-robin across the team."""

    to = RepChoiceField(
        queryset=User.objects.none(), required=False, empty_label=ROUND_ROBIN, label="Give them to"
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Goes on every moved lead's timeline.",
    )

    def __init__(self, *args, manager, from_rep: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.from_rep = from_rep
        cast(forms.ModelChoiceField, self.fields["to"]).queryset = target_reps(manager, exclude=from_rep.pk)
