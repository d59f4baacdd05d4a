"""REST API for leads: capture, list and filter, read with timeline, log activities, rate."""

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kit import bounds

from . import cleaning, services
from .access import can_capture_leads, can_read_campaigns, can_work_leads, get_lead_for_user, may_see_lead
from .filters import LeadFilter
from .forms import CaptureForm
from .models import (
    CAPTURABLE_ACTIVITIES,
    Activity,
    ActivityKind,
    ActivitySource,
    Campaign,
    Channel,
    Lead,
    LeadEvent,
    ScoringSettings,
)
from .scoring import compute_fit


class WorksLeads(permissions.BasePermission):
    message = "Your role does not work with raw leads."

    def has_permission(self, request, view):
        return can_work_leads(request.user)


class CapturesLeads(permissions.BasePermission):
    message = "Only marketing/ops, managers and integrations capture leads; SDRs add prospects."

    def has_permission(self, request, view):
        return can_capture_leads(request.user)


class ReadsCampaigns(permissions.BasePermission):
    message = "Your role does not work with campaigns."

    def has_permission(self, request, view):
        return can_read_campaigns(request.user)


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
            "mql_at",
            "status_changed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return str(lead.owner) if lead.owner_id else None

    def _scoring_clock(self) -> tuple:
        # Read once per response, not once per lead.
        if "scoring_clock" not in self.context:
            self.context["scoring_clock"] = (timezone.now(), ScoringSettings.load().half_life_days)
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
    label = serializers.CharField()
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
    source = serializers.ChoiceField(choices=Channel.choices, required=False)
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


class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Leads the caller may see (all for managers and marketing, their own for SDRs)."""

    permission_classes = [permissions.IsAuthenticated, WorksLeads]
    filterset_class = LeadFilter

    def get_queryset(self):
        return (
            Lead.objects.visible_to(self.request.user).with_list_relations().order_by("-captured_at", "-id")
        )

    def get_object(self):
        lead = get_lead_for_user(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, lead)
        return lead

    def get_serializer_class(self):
        if self.action == "retrieve":
            return LeadDetailSerializer
        if self.action == "create":
            return LeadCaptureSerializer
        return LeadSerializer

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), CapturesLeads()]
        return super().get_permissions()

    @extend_schema(
        request=LeadCaptureSerializer,
        responses={
            201: OpenApiResponse(
                CAPTURE_ANSWER,
                description="A new lead: the lead when the caller may see it, otherwise a receipt.",
            ),
            200: OpenApiResponse(
                CAPTURE_ANSWER,
                description="A known email: the activity is added to that lead; the lead when the "
                "caller may see it, otherwise a receipt (id, email, result).",
            ),
            400: OpenApiResponse(description="Bad input: a message per field."),
            403: OpenApiResponse(
                description="Only marketing/ops, managers and integrations capture (SDRs add prospects)."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Capture a person: marketing's inbound channel, the API twin of the web form.

        Who: marketing/ops, managers, superusers and integration service accounts
        (``leads.access.can_capture_leads``); SDRs, AEs and AMs get 403 (SDRs add the people
        they find as prospects on their target accounts).

        A known email is deduplicated, as on the web form: the activity goes onto the existing
        lead, blank details are filled in, engagement is added, and ``hand_raiser`` marks the
        prospect as having asked for a call (tightening an open first-touch timer to the
        hand-raiser policy). That is everything an anonymous web-form post may change, and a
        capture through the API never changes more: it never sets an owner or a rating,
        never moves a status except that promotion to MQL, and never overwrites a detail. The answer shows the lead only to a caller who may
        see it (``Lead.objects.visible_to``); anyone else (an integration) gets a receipt with
        the lead's id, the email and whether it was created or merged, never its owner, phone,
        scores or status.
        """
        serializer = LeadCaptureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.capture_lead(
            email=data["email"],
            details=data["details"],
            via=ActivitySource.API,
            campaign=data.get("campaign"),
            source=data.get("source"),
            activity_kind=data["activity"],
            hand_raiser=data["hand_raiser"],
            note=data["note"],
            actor=request.user,
        )
        lead = result.lead
        if may_see_lead(request.user, lead):
            body = LeadSerializer(lead, context=self.get_serializer_context()).data
        else:
            receipt = {
                "id": lead.pk,
                "email": lead.email,
                "result": "created" if result.created else "merged",
            }
            body = CaptureReceiptSerializer(receipt).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=ActivityCreateSerializer, responses={201: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def activities(self, request, pk=None):
        lead = self.get_object()
        serializer = ActivityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = services.log_activity(
            lead_id=lead.pk,
            kind=serializer.validated_data["kind"],
            occurred_at=serializer.validated_data.get("occurred_at"),
            note=serializer.validated_data["note"],
            actor=request.user,
            via=ActivitySource.API,
        )
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RatingSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def rating(self, request, pk=None):
        lead = self.get_object()
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.set_rating(
            lead_id=lead.pk, rating=serializer.validated_data["rating"], actor=request.user
        )
        return Response(LeadSerializer(lead, context=self.get_serializer_context()).data)


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns, to credit captured leads to (managed in the admin)."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    permission_classes = [permissions.IsAuthenticated, ReadsCampaigns]
