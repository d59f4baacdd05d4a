"""The person's own preferences."""

import zoneinfo
from datetime import datetime
from functools import cache

from django import forms
from django.utils import timezone

from .models import User
from .zones import zone_named


@cache
def zone_choices() -> tuple:
    """Every IANA zone this Python knows, grouped by region, each labelled by its place first
    (typing "Ber" in the list finds Berlin) with its name: ``Berlin (Europe/Berlin)``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        region, _, place = name.partition("/")
        if not place or region in ("Etc", "SystemV", "US", "Canada", "Brazil", "Mexico", "Chile"):
            continue  # aliases and legacy names; UTC is offered on its own
        groups.setdefault(region, []).append((name, f"{place.replace('_', ' ')} ({name})"))
    return tuple((region, sorted(options, key=lambda o: o[1])) for region, options in sorted(groups.items()))


class PreferencesForm(forms.ModelForm):
    """The zone the person reads times in; blank is their team calendar's."""

    class Meta:
        model = User
        fields = ["timezone"]

    def __init__(self, *args, team_zone_name: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        field = self.fields["timezone"]
        field.label = "Time zone"
        field.widget = forms.Select(
            choices=[
                ("", f"My team calendar's ({_label(team_zone_name, now)})"),
                ("UTC", "UTC"),
                *zone_choices(),
            ]
        )
        field.widget.attrs["autocomplete"] = "off"

    def clean_timezone(self) -> str:
        # The model's validator says why an unknown name is refused; an empty value is the default.
        return self.cleaned_data["timezone"].strip()


def _label(name: str, now: datetime) -> str:
    local = timezone.localtime(now, zone_named(name))
    return f"{name}, now {local:%H:%M} {local.tzname()}"
