"""The bodies of touches, follow-ups and dispositions, and the state each answers with."""

from rest_framework import serializers

from leads.models import TOUCH_KINDS, Activity, ActivityKind, Lead, TouchOutcome

from ..services import DISPOSITIONS, follow_up_time_problem
from .common import AwareDateTimeField
from .items import LeadStateSerializer, WorkItemSerializer

TOUCH_CHOICES = [(kind.value, ActivityKind(kind).label) for kind in TOUCH_KINDS]
DISPOSITION_CHOICES = [(Lead.Status.NURTURE.value, "Nurture"), (Lead.Status.DISQUALIFIED.value, "Disqualify")]
ALL_REASONS = list(dict.fromkeys(reason for reasons in DISPOSITIONS.values() for reason in reasons))


# --- what the API answers with ---------------------------------------------------------------


class TouchActivitySerializer(serializers.ModelSerializer):
    # A plain string: the touch kinds that have no outcome store "" (an enum without it was
    # a lie), and an enum named "outcome" would collide with the renewal outcome's.
    outcome = serializers.CharField(
        read_only=True, help_text=", ".join(TouchOutcome.values) + ", or empty when not recorded."
    )

    class Meta:
        model = Activity
        fields = ["id", "kind", "outcome", "occurred_at", "note"]
        read_only_fields = fields


class TouchResultSerializer(serializers.Serializer):
    lead = LeadStateSerializer()
    activity = TouchActivitySerializer()
    completed = WorkItemSerializer(
        many=True, help_text="Items this touch completed (the first touch, follow-ups due)."
    )


class FollowUpResultSerializer(serializers.Serializer):
    lead = LeadStateSerializer()
    item = WorkItemSerializer(help_text="The follow-up, in the lead owner's queue.")


class DispositionResultSerializer(serializers.Serializer):
    lead = LeadStateSerializer()


# --- what the API accepts ----------------------------------------------------------------------


class TouchSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TOUCH_CHOICES)
    outcome = serializers.ChoiceField(
        choices=TouchOutcome.choices, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FollowUpSerializer(serializers.Serializer):
    due_at = AwareDateTimeField(help_text="ISO 8601 with a UTC offset; in the future, within a year.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_due_at(self, value):
        if problem := follow_up_time_problem(value):
            raise serializers.ValidationError(problem)
        return value


class DispositionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=DISPOSITION_CHOICES)
    reason = serializers.ChoiceField(
        choices=[(r, r) for r in ALL_REASONS],
        help_text="Nurture: "
        + "; ".join(DISPOSITIONS[Lead.Status.NURTURE])
        + ". Disqualify: "
        + "; ".join(DISPOSITIONS[Lead.Status.DISQUALIFIED])
        + ".",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        allowed = DISPOSITIONS[attrs["to"]]
        if attrs["reason"] not in allowed:
            raise serializers.ValidationError(
                {"reason": f"Choose a reason for this disposition: {', '.join(allowed)}."}
            )
        return attrs
