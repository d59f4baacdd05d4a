"""The leads API's serializers: leads (a list row, a detail with its timeline and fit), what a
capture takes and answers, activities and ratings."""

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from kit import bounds

from .. import cleaning
from ..forms import CaptureForm
from ..models import (
    CAPTURABLE_ACTIVITIES,
    Activity,
    ActivityKind,
    Campaign,
    Channel,
    Lead,
    LeadEvent,
    ScoringSettings,
)
from ..scoring import compute_fit


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "channel", "cost", "starts_on", "ends_on", "is_active"]


class LeadSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    campaign_name = serializers.CharField(
        source="campaign.name", read_only=True, default=None, allow_null=True
    )
    owner_name = serializers.SerializerMethodField()
    engagement = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField()
    source_attributes = serializers.DictField(
        child=serializers.JSONField(),
        read_only=True,
        help_text="What the source system said that Refinery has no field for (its lifecycle stage, score).",
    )
    tags = serializers.SerializerMethodField(help_text="The lead's tags, by name.")

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "name",
            "first_name",
            "last_name",
            "company",
            "title",
            "seniority",
            "industry",
            "employees",
            "annual_revenue",
            "country",
            "phone",
            "campaign",
            "campaign_name",
            "source",
            "status",
            "status_reason",
            "owner",
            "owner_name",
            "hand_raiser",
            "rating",
            "fit_score",
            "fit_grade",
            "engagement",
            "grade",
            "captured_at",
            "first_seen_at",
            "external_system",
            "source_attributes",
            "tags",
            "mql_at",
            "status_changed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return str(lead.owner) if lead.owner_id else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, lead) -> list[str]:
        # From the list's prefetch (one query a page), so no ordering in SQL here.
        return sorted(tag.name for tag in lead.tags.all())

    def _scoring_clock(self) -> tuple:
        # Read once per response, not once per lead.
        if "scoring_clock" not in self.context:
            # The context is the dict the view passed in; djangorestframework-stubs type it read-only.
            self.context["scoring_clock"] = (  # type: ignore[index]
                timezone.now(),
                ScoringSettings.load().half_life_days,
            )
        return self.context["scoring_clock"]

    @extend_schema_field(serializers.FloatField())
    def get_engagement(self, lead) -> float:
        return round(lead.engagement(*self._scoring_clock()), 2)

    def get_grade(self, lead) -> str:
        return lead.grade(*self._scoring_clock())


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=["event", "activity"])
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    actor = serializers.CharField(allow_null=True)
    campaign = serializers.CharField(allow_null=True)
    via = serializers.CharField(allow_blank=True)
    from_status = serializers.CharField(allow_blank=True, required=False)
    to_status = serializers.CharField(allow_blank=True, required=False)
    points = serializers.FloatField(required=False)
    message = serializers.CharField(allow_blank=True)

    def to_representation(self, entry):
        item = entry["item"]
        common = {
            "at": serializers.DateTimeField().to_representation(entry["at"]),
            "type": entry["type"],
            "kind": item.kind,
            "label": item.get_kind_display(),
            "actor": str(item.actor) if item.actor_id else None,
            "campaign": item.campaign.name if item.campaign_id else None,
        }
        if isinstance(item, LeadEvent):
            return {
                **common,
                "via": item.via,
                "from_status": item.from_status,
                "to_status": item.to_status,
                "message": item.message,
            }
        return {**common, "via": item.source, "points": item.points, "message": item.note}


class FitLineSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    lead_value = serializers.CharField()
    matched = serializers.BooleanField()
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()


class LeadDetailSerializer(LeadSerializer):
    timeline = serializers.SerializerMethodField()
    fit_explanation = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [
            *LeadSerializer.Meta.fields,
            "external_id",
            "external_status",
            "fit_explanation",
            "timeline",
        ]
        read_only_fields = fields

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, lead):
        return TimelineEntrySerializer(lead.timeline(), many=True).data

    @extend_schema_field(FitLineSerializer(many=True))
    def get_fit_explanation(self, lead):
        return [
            {
                "criterion": str(r.criterion.get_field_display()) + ": " + r.criterion.describe(),
                "lead_value": r.lead_value,
                "matched": r.matched,
                "points": r.points,
                "max_points": r.criterion.points,
            }
            for r in compute_fit(lead).results
        ]


class LeadCaptureSerializer(serializers.Serializer):
    """A lead to capture. A known email adds an activity to the existing lead (200) instead of
    creating a duplicate (201)."""

    email = serializers.CharField(max_length=254)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    employees = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    annual_revenue = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    campaign = bounds.ApiPrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    source = serializers.ChoiceField(choices=Channel.choices, required=False)  # type: ignore[assignment]  # a declared field, not Field.source
    activity = serializers.ChoiceField(
        choices=CAPTURABLE_ACTIVITIES,
        default=ActivityKind.FORM_FILL,
    )
    hand_raiser = serializers.BooleanField(default=False, help_text="The prospect asked for a call.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        # The same cleaning as the public web form, so both store the same values.
        form = CaptureForm({k: v for k, v in attrs.items() if k in CaptureForm.base_fields})
        if not form.is_valid():
            raise serializers.ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        attrs["email"] = form.cleaned_data["email"]
        attrs["details"] = form.details()
        attrs["details"]["annual_revenue"] = cleaning.parse_revenue(attrs.get("annual_revenue", ""))
        attrs["note"] = cleaning.neutralize_formula(attrs.get("note", "").strip())
        return attrs


class CaptureReceiptSerializer(serializers.Serializer):
    """What a capture answers a caller who may not see the lead (an integration): that the
    person was stored, as a new lead or merged into a known one, and nothing of the lead."""

    id = serializers.IntegerField(help_text="The lead's id: the same person always has the same id.")
    email = serializers.CharField(help_text="The email as stored (trimmed, lower case).")
    result = serializers.ChoiceField(
        choices=["created", "merged"], help_text="created: a new lead; merged: an activity on a known one."
    )


CAPTURE_ANSWER = PolymorphicProxySerializer(
    component_name="CaptureAnswer",
    serializers=[LeadSerializer, CaptureReceiptSerializer],
    resource_type_field_name=None,
)


class ActivityCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CAPTURABLE_ACTIVITIES)
    occurred_at = bounds.ApiDateTimeField(
        required=False, help_text="Defaults to now; may not be in the future (nor before 1990)."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_occurred_at(self, value):
        if value > timezone.now():
            raise serializers.ValidationError("An activity cannot happen in the future.")
        return value


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "lead", "kind", "occurred_at", "points", "source", "note"]
        read_only_fields = fields


class RatingSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Lead.Rating.choices, allow_blank=True)
