"""What the SDR API answers with about work items, and about a lead after a change (where it
stands, who has it, its open work items)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.models import Lead
from work.models import WorkItem

from .common import scoring_clock


class WorkItemSerializer(serializers.ModelSerializer):
    """A work item: what must be done on a lead (or an opportunity), by whom, by when, and how
    its SLA stands. ``context["now"]`` fixes the clock when the caller has one."""

    # Plain strings in the schema, values listed: enums named "kind" and "state" would collide
    # with other components' (entries in ENUM_NAME_OVERRIDES would let them be enums).
    kind = serializers.CharField(read_only=True, help_text=" or ".join(WorkItem.Kind.values) + ".")
    state = serializers.CharField(read_only=True, help_text=", ".join(WorkItem.State.values) + ".")
    policy = serializers.CharField(source="policy.name", read_only=True, default=None, allow_null=True)
    sla_state = serializers.SerializerMethodField(
        help_text="met, late, breached, at_risk, on_track, or empty when the item has no SLA."
    )

    class Meta:
        model = WorkItem
        fields = [
            "id",
            "kind",
            "state",
            "title",
            "note",
            "owner",
            "team",
            "policy",
            "created_at",
            "due_at",
            "breached_at",
            "completed_at",
            "sla_state",
        ]
        read_only_fields = fields

    def get_sla_state(self, item) -> str:
        return item.sla_state(self.context.get("now") or scoring_clock(self.context)[0])


class LeadStateSerializer(serializers.ModelSerializer):
    """A lead after a change: where it stands, who has it, and its open work items."""

    name = serializers.CharField(read_only=True)
    owner_name = serializers.SerializerMethodField()
    team_name = serializers.CharField(source="team.name", read_only=True, default=None, allow_null=True)
    open_items = WorkItemSerializer(many=True, read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "email",
            "company",
            "status",
            "status_reason",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "open_items",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return str(lead.owner) if lead.owner_id else None
