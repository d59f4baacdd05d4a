"""Serializers of the SDR API: what a queue item looks like, the bodies of touches,
follow-ups, dispositions and reassignments, and the state each change answers with."""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from kit import bounds
from leads.models import TOUCH_KINDS, Activity, ActivityKind, Lead, ScoringSettings, TouchOutcome
from team.models import User
from work.models import WorkItem

from .models import Cadence, CadenceStep, Channel, Enrollment
from .queue import Bucket
from .services import DISPOSITIONS, follow_up_time_problem
from .services.cadences import active_cadences

TOUCH_CHOICES = [(kind.value, ActivityKind(kind).label) for kind in TOUCH_KINDS]
DISPOSITION_CHOICES = [(Lead.Status.NURTURE.value, "Nurture"), (Lead.Status.DISQUALIFIED.value, "Disqualify")]
ALL_REASONS = list(dict.fromkeys(reason for reasons in DISPOSITIONS.values() for reason in reasons))


def _clock(context: Mapping[str, Any]) -> tuple:
    """Now and the engagement half-life, read once per response (not once per lead)."""
    if "scoring_clock" not in context:
        # The context is the dict the view passed in; djangorestframework-stubs type it read-only.
        context["scoring_clock"] = (timezone.now(), ScoringSettings.load().half_life_days)  # type: ignore[index]
    return context["scoring_clock"]


# --- what the API answers with ---------------------------------------------------------------


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
        return item.sla_state(self.context.get("now") or _clock(self.context)[0])


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
        return lead.grade(*_clock(self.context))


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


class AwareDateTimeField(bounds.ApiDateTimeField):
    """An ISO 8601 time with its UTC offset: a naive time is refused rather than guessed (and
    one out of ``kit.bounds``' range is refused)."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError(
                "Give the time with its UTC offset, e.g. 2030-01-31T09:30:00+01:00."
            )
        return super().enforce_timezone(value)


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


# --- cadences ------------------------------------------------------------------------------------


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
