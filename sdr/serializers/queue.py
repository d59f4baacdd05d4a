"""What a queue looks like in the API (its items, why each sits where it does, their leads)
and the query that asks for one."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from kit import bounds
from leads.models import ActivityKind, Lead

from ..queue import Bucket
from .common import scoring_clock
from .items import WorkItemSerializer


class QueueLeadSerializer(serializers.ModelSerializer):
    """The lead behind a queue item, as a rep needs it to decide what to do."""

    name = serializers.CharField(read_only=True)
    campaign_name = serializers.CharField(
        source="campaign.name", read_only=True, default=None, allow_null=True
    )
    grade = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "email",
            "company",
            "title",
            "country",
            "phone",
            "status",
            "hand_raiser",
            "rating",
            "grade",
            "campaign_name",
            "mql_at",
        ]
        read_only_fields = fields

    def get_grade(self, lead) -> str:
        return lead.grade(*scoring_clock(self.context))


class QueueItemSerializer(WorkItemSerializer):
    """One line of a queue: the item, why it sits where it does, the last touch, and its lead."""

    bucket = serializers.IntegerField(read_only=True, help_text="Lower is worked first.")
    bucket_label = serializers.SerializerMethodField()
    last_touch_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_touch_kind = serializers.ChoiceField(choices=ActivityKind.choices, read_only=True, allow_null=True)
    lead = QueueLeadSerializer(source="subject", read_only=True)

    class Meta(WorkItemSerializer.Meta):
        fields = [
            *WorkItemSerializer.Meta.fields,
            "bucket",
            "bucket_label",
            "last_touch_at",
            "last_touch_kind",
            "lead",
        ]
        read_only_fields = fields

    def get_bucket_label(self, item) -> str:
        return Bucket.LABELS.get(item.bucket, "")


class RepSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


@extend_schema_serializer(many=False)
class QueueSerializer(serializers.Serializer):
    """A queue, in the order to work it: the caller's own, a rep's (managers), or the
    unassigned queue of the teams a manager runs."""

    rep = RepSerializer(allow_null=True, help_text="Whose queue; null for the unassigned queue.")
    unassigned = serializers.BooleanField()
    count = serializers.IntegerField(help_text="Items in this answer.")
    truncated = serializers.BooleanField(help_text="More items wait beyond this answer's limit.")
    results = QueueItemSerializer(many=True)


# --- what the API accepts ----------------------------------------------------------------------


class QueueQuerySerializer(serializers.Serializer):
    rep = bounds.ApiIdField(required=False, help_text="Managers: a rep's queue (a rep in a team you manage).")
    unassigned = serializers.BooleanField(
        required=False, default=False, help_text="Managers: your teams' unassigned queue."
    )
    team = bounds.ApiIdField(required=False, help_text="With unassigned: one of your teams only.")

    def validate(self, attrs):
        if attrs.get("rep") and attrs.get("unassigned"):
            raise serializers.ValidationError("Ask for a rep's queue or the unassigned queue, not both.")
        if attrs.get("team") and not attrs.get("unassigned"):
            raise serializers.ValidationError({"team": "A team narrows the unassigned queue (unassigned=1)."})
        return attrs
