"""What several of the SDR API's serializers share: the scoring clock of a response, and a
time field that refuses a naive time (the hand-off API uses it too)."""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from kit import bounds
from leads.models import ScoringSettings


def scoring_clock(context: Mapping[str, Any]) -> tuple:
    """Now and the engagement half-life, read once per response (not once per lead)."""
    if "scoring_clock" not in context:
        # The context is the dict the view passed in; djangorestframework-stubs type it read-only.
        context["scoring_clock"] = (timezone.now(), ScoringSettings.load().half_life_days)  # type: ignore[index]
    return context["scoring_clock"]


class AwareDateTimeField(bounds.ApiDateTimeField):
    """An ISO 8601 time with its UTC offset: a naive time is refused rather than guessed (and
    one out of ``kit.bounds``' range is refused)."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError(
                "Give the time with its UTC offset, e.g. 2030-01-31T09:30:00+01:00."
            )
        return super().enforce_timezone(value)
