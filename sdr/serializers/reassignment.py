"""The bodies of a manager's reassignments (one lead, or a rep's whole queue) and what each
answers with."""

from rest_framework import serializers

from kit import bounds
from team.models import User

from .items import LeadStateSerializer


class LeadReassignResultSerializer(serializers.Serializer):
    moved = serializers.BooleanField()
    lead = LeadStateSerializer()


class RepShareSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    leads = serializers.IntegerField()


class MovedLeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.IntegerField(
        allow_null=True, help_text="Null: waiting in the team's unassigned queue."
    )


class QueueReassignResultSerializer(serializers.Serializer):
    from_user = serializers.IntegerField()
    moved = serializers.IntegerField(help_text="Leads that changed hands.")
    unassigned = serializers.IntegerField(help_text="Of those, leads nobody could take (unassigned queue).")
    by_rep = RepShareSerializer(many=True)
    leads = MovedLeadSerializer(many=True)


# --- what the API accepts ----------------------------------------------------------------------


class RepField(bounds.ApiPrimaryKeyRelatedField):
    """A rep in the teams the requesting manager runs (the view passes ``reps`` in context)."""

    default_error_messages = {
        "does_not_exist": "Choose an active SDR in a team you manage.",
        "incorrect_type": "Give a user id.",
    }

    def __init__(self, *, active_only: bool = True, **kwargs):
        self.active_only = active_only
        super().__init__(queryset=User.objects.none(), **kwargs)

    def get_queryset(self):
        reps = self.context.get("reps", self.queryset)
        return reps.filter(is_active=True) if self.active_only else reps


class LeadReassignSerializer(serializers.Serializer):
    to = RepField(
        allow_null=True, help_text="A rep's user id; null shares it round-robin across the lead's team."
    )
    reason = serializers.CharField(max_length=300, help_text="Goes on the lead's timeline.")


class QueueReassignSerializer(serializers.Serializer):
    from_user = RepField(active_only=False, help_text="The rep whose open leads all move.")
    to = RepField(allow_null=True, help_text="A rep's user id; null shares them round-robin across the team.")
    reason = serializers.CharField(max_length=300, help_text="Goes on every moved lead's timeline.")

    def validate(self, attrs):
        if attrs["to"] is not None and attrs["to"].pk == attrs["from_user"].pk:
            raise serializers.ValidationError(
                {"to": "Choose someone other than the rep whose queue is moving."}
            )
        return attrs
