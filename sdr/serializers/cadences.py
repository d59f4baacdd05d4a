"""Cadences in the API: the playbooks and their steps, a lead's enrollment, and the body that
enrolls a lead."""

from rest_framework import serializers

from kit import bounds

from ..models import Cadence, CadenceStep, Channel, Enrollment
from ..services.cadences import active_cadences
from .items import LeadStateSerializer


class CadenceStepSerializer(serializers.ModelSerializer):
    # A plain string in the schema, values listed: an enum named "channel" would collide with
    # the leads' Channel enum (ENUM_NAME_OVERRIDES maps ChannelEnum there).
    channel = serializers.CharField(read_only=True, help_text=", ".join(Channel.values) + ".")

    class Meta:
        model = CadenceStep
        fields = ["position", "day_offset", "channel", "instructions"]
        read_only_fields = fields


class CadenceSerializer(serializers.ModelSerializer):
    """A playbook and its steps in order; only active cadences take enrollments."""

    steps = CadenceStepSerializer(many=True, read_only=True)

    class Meta:
        model = Cadence
        fields = ["id", "name", "description", "is_active", "steps"]
        read_only_fields = fields


class EnrollmentSerializer(serializers.ModelSerializer):
    """A lead's run through a cadence: where it stands, and why it ended."""

    cadence_name = serializers.CharField(source="cadence.name", read_only=True)
    state = serializers.CharField(read_only=True, help_text=", ".join(Enrollment.State.values) + ".")
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    step = serializers.IntegerField(
        source="step.position", read_only=True, allow_null=True, default=None, help_text="The step now due."
    )

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "lead",
            "cadence",
            "cadence_name",
            "state",
            "state_label",
            "step",
            "enrolled_by",
            "started_at",
            "ended_at",
        ]
        read_only_fields = fields


class EnrollSerializer(serializers.Serializer):
    cadence = bounds.ApiPrimaryKeyRelatedField(
        queryset=Cadence.objects.none(),
        help_text="An active cadence with steps (see /api/v1/cadences/).",
        error_messages={
            "does_not_exist": "Choose an active cadence.",
            "incorrect_type": "Give a cadence id.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadence"].queryset = active_cadences()


class EnrollmentResultSerializer(serializers.Serializer):
    lead = LeadStateSerializer(help_text="The lead, its open items including the cadence step now due.")
    enrollment = EnrollmentSerializer()
