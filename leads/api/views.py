"""The leads API's endpoints: capture, list and filter, read with timeline, log activities,
rate; campaigns read-only. Who may call which is ``leads.access``'s rules, as permissions."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kit.exporting import EXPORT_RENDERERS, export_schema

from .. import services
from ..access import can_capture_leads, can_read_campaigns, can_work_leads, get_lead_for_user, may_see_lead
from ..exports import LEAD_EXPORT
from ..filters import LeadFilter
from ..models import ActivitySource, Campaign, Lead
from .serializers import (
    CAPTURE_ANSWER,
    ActivityCreateSerializer,
    ActivitySerializer,
    CampaignSerializer,
    CaptureReceiptSerializer,
    LeadCaptureSerializer,
    LeadDetailSerializer,
    LeadSerializer,
    RatingSerializer,
)


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


class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Leads the caller may see (all for managers and marketing, their own for SDRs)."""

    permission_classes = [permissions.IsAuthenticated, WorksLeads]
    filterset_class = LeadFilter

    def get_queryset(self):
        return (
            Lead.objects.visible_to(self.request.user)
            .with_list_relations()
            .prefetch_related("tags")
            .order_by("-captured_at", "-id")
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

    @export_schema("leads")
    @action(detail=False, methods=["get"], renderer_classes=EXPORT_RENDERERS)
    def export(self, request):
        """The leads the list's filters select, as a CSV file (every row, streamed)."""
        leads = self.filter_queryset(self.get_queryset())
        return LEAD_EXPORT.response(request, leads, name="leads")

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
