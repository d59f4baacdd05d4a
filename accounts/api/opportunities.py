"""API: opportunities, the AE's inbox and pipeline, and the stages they move through.

    GET   /api/v1/opportunities/                 those the caller may see, filtered and paginated
    GET   /api/v1/opportunities/<id>/            one, with its events and work items
    POST  /api/v1/opportunities/<id>/accept/     the AE takes the handoff
    POST  /api/v1/opportunities/<id>/reject/     reason and note: the lead goes back to its SDR
    POST  /api/v1/opportunities/<id>/move/       another stage (lost: a reason; won: an amount)
    PATCH /api/v1/opportunities/<id>/details/    amount, close date, next step (POST works too)
    GET   /api/v1/opportunities/export/          the list's rows (same filters) as a CSV file
    GET   /api/v1/stages/                        the pipeline's stages

The list takes the pipeline page's FilterSet (``accounts.filters``). Who sees what is
``accounts.access``: 403 for a role with no business (account managers; anyone but an AE
accepting; SDRs and marketing moving), 404 for an opportunity the caller may not see. A refusal
naming an input is a 400 on that field; one the opportunity's state makes (already answered,
already closed) is a 409 with the reason in ``detail``: the services' refusals reach the API's
one exception handler (``kit.api_errors``), which answers them so.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kit import bounds
from kit.exporting import EXPORT_RENDERERS, export_schema
from sdr.serializers import WorkItemSerializer

from .. import services
from ..access import (
    handoff_for,
    opportunity_for,
    sees_opportunities,
    visible_opportunities,
    workable_for,
)
from ..exports import OPPORTUNITY_EXPORT
from ..filters import SORTS, OpportunityFilter
from ..models import LOST_REASONS, REJECT_REASONS, Opportunity, OpportunityEvent, Qualification, Stage

NOTE_MAX = 2000


class SeesOpportunities(permissions.BasePermission):
    message = "Your role does not work with opportunities."

    def has_permission(self, request, view):
        return sees_opportunities(request.user)


# --- what the API answers with ---------------------------------------------------------------


def _labelled(choices, what: str) -> str:
    return f"{what}: " + ", ".join(str(value) for value in choices) + "."


class OpportunityAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()


class OpportunityContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")
    email = serializers.CharField()
    title = serializers.CharField()
    phone = serializers.CharField()


class OpportunitySerializer(serializers.ModelSerializer):
    """An opportunity: where it came from, the SDR's qualification, and where it stands."""

    # Plain strings rather than enums: the same names carry other choice sets elsewhere in the
    # API, and drf-spectacular's warnings about that fail the deploy check.
    status = serializers.CharField(read_only=True, help_text=_labelled(Opportunity.Status.values, "One of"))
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    origin = serializers.CharField(read_only=True, help_text=_labelled(Opportunity.Origin.values, "One of"))
    budget = serializers.CharField(read_only=True, help_text=_labelled(Qualification.values, "One of"))
    authority = serializers.CharField(read_only=True, help_text=_labelled(Qualification.values, "One of"))
    need = serializers.CharField(read_only=True, help_text=_labelled(Qualification.values, "One of"))
    timing = serializers.CharField(read_only=True, help_text=_labelled(Qualification.values, "One of"))
    account = OpportunityAccountSerializer(read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    sdr_name = serializers.SerializerMethodField()
    campaign_name = serializers.CharField(
        source="campaign.name", read_only=True, default=None, allow_null=True
    )
    page = serializers.SerializerMethodField(help_text="The opportunity's page.")

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "page",
            "status",
            "status_label",
            "stage",
            "stage_name",
            "account",
            "owner",
            "owner_name",
            "sdr",
            "sdr_name",
            "campaign",
            "campaign_name",
            "origin",
            "budget",
            "budget_note",
            "authority",
            "authority_note",
            "need",
            "need_note",
            "timing",
            "timing_note",
            "asked_for_meeting",
            "proposed_meeting_at",
            "amount",
            "close_date",
            "next_step",
            "handed_off_at",
            "accepted_at",
            "rejected_at",
            "reject_reason",
            "reject_note",
            "closed_at",
            "lost_reason",
            "lost_note",
            "early_loss",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_sdr_name(self, opportunity):
        return str(opportunity.sdr) if opportunity.sdr_id else None

    def get_page(self, opportunity) -> str:
        url = opportunity.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class OpportunityEventSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text=_labelled(OpportunityEvent.Kind.values, "One of"))
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = OpportunityEvent
        fields = ["id", "kind", "at", "actor", "actor_name", "from_stage", "to_stage", "message"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event):
        return str(event.actor) if event.actor_id else None


class OpportunityDetailSerializer(OpportunitySerializer):
    """One opportunity with its contact, its timeline of events and its work items (the
    acceptance timer and its SLA)."""

    contact = OpportunityContactSerializer(read_only=True, allow_null=True)
    events = serializers.SerializerMethodField()
    work_items = serializers.SerializerMethodField()

    class Meta(OpportunitySerializer.Meta):
        fields = [*OpportunitySerializer.Meta.fields, "contact", "events", "work_items"]
        read_only_fields = fields

    @extend_schema_field(OpportunityEventSerializer(many=True))
    def get_events(self, opportunity):
        events = opportunity.events.select_related("actor")[:200]
        return OpportunityEventSerializer(events, many=True).data

    @extend_schema_field(WorkItemSerializer(many=True))
    def get_work_items(self, opportunity):
        items = opportunity.work_items.select_related("policy").order_by("-created_at", "-id")
        return WorkItemSerializer(items, many=True, context={"now": timezone.now()}).data


class PipelineStageSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text=_labelled(Stage.Kind.values, "One of"))

    class Meta:
        model = Stage
        fields = ["id", "name", "position", "kind", "probability", "is_active"]
        read_only_fields = fields


# --- what the API accepts ----------------------------------------------------------------------


class OpportunityRejectSerializer(serializers.Serializer):
    # Strings checked by the service, so the API says what the page says.
    reason = serializers.CharField(max_length=100, help_text=_labelled(REJECT_REASONS, "One of"))
    note = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default="", help_text="Required: for the SDR."
    )


class OpportunityMoveSerializer(serializers.Serializer):
    stage = bounds.ApiIdField(help_text="A stage's id (/api/v1/stages/).")
    lost_reason = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for a lost stage. " + _labelled(LOST_REASONS, "One of"),
    )
    lost_note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")
    recycle = serializers.BooleanField(
        required=False, default=False, help_text="Lost: give the lead back to marketing to nurture."
    )


class OpportunityUpdateSerializer(serializers.Serializer):
    """Fields left out keep their value; null clears the amount or the close date."""

    amount = bounds.ApiMoneyField(allow_null=True, required=False)
    close_date = bounds.ApiDateField(allow_null=True, required=False, help_text="1990-01-01 to 2100-12-31.")
    next_step = serializers.CharField(max_length=300, allow_blank=True, required=False)


REFUSALS = {
    400: OpenApiResponse(description="Bad input: a message per field."),
    403: OpenApiResponse(description="Your role may not do this."),
    404: OpenApiResponse(description="No such opportunity among those you see."),
    409: OpenApiResponse(description="Already answered, or already closed."),
}


@extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)])
class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Opportunities the caller may see: an AE's own (and the handoffs waiting in their team), the
    ones an SDR handed off, their teams' for a manager, all for marketing."""

    permission_classes = [permissions.IsAuthenticated, SeesOpportunities]
    filterset_class = OpportunityFilter
    serializer_class = OpportunitySerializer
    queryset = Opportunity.objects.none()  # rows come from visible_opportunities
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = visible_opportunities(self.request.user).select_related(
            "account", "stage", "owner", "sdr", "campaign"
        )
        # The FilterSet's ``sort`` reorders; without it, the newest handoff first.
        return rows.order_by(*SORTS["newest"])

    def get_object(self):
        opportunity = opportunity_for(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, opportunity)
        return opportunity

    def get_serializer_class(self):
        return OpportunitySerializer if self.action == "list" else OpportunityDetailSerializer

    def _answer(self, opportunity_id: int) -> Response:
        opportunity = opportunity_for(self.request.user, opportunity_id)
        return Response(OpportunityDetailSerializer(opportunity, context=self.get_serializer_context()).data)

    @export_schema("opportunities")
    @action(detail=False, methods=["get"], renderer_classes=EXPORT_RENDERERS)
    def export(self, request):
        """The opportunities the list's filters select, as a CSV file (every row, streamed)."""
        opportunities = self.filter_queryset(self.get_queryset())
        return OPPORTUNITY_EXPORT.response(request, opportunities, name="opportunities")

    @extend_schema(request=None, responses={200: OpportunityDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Take the handoff (an AE of its team may cover): the acceptance timer stops and the
        opportunity enters the pipeline at its first stage."""
        opportunity = handoff_for(request.user, pk)
        services.accept_handoff(opportunity_id=opportunity.pk, by=request.user)
        return self._answer(opportunity.pk)

    @extend_schema(
        request=OpportunityRejectSerializer, responses={200: OpportunityDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Turn the handoff down with a reason and a note; the lead goes back to its SDR."""
        opportunity = handoff_for(request.user, pk)
        body = OpportunityRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reject_handoff(opportunity_id=opportunity.pk, by=request.user, **body.validated_data)
        return self._answer(opportunity.pk)

    @extend_schema(
        request=OpportunityMoveSerializer, responses={200: OpportunityDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move to another stage: a lost stage needs ``lost_reason`` (and may recycle the lead),
        a won stage an amount on the opportunity."""
        opportunity = workable_for(request.user, pk)
        body = OpportunityMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.move_stage(
            opportunity_id=opportunity.pk,
            by=request.user,
            stage_id=data["stage"],
            lost_reason=data["lost_reason"],
            lost_note=data["lost_note"],
            recycle=data["recycle"],
        )
        return self._answer(opportunity.pk)

    @extend_schema(
        request=OpportunityUpdateSerializer, responses={200: OpportunityDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["patch", "post"])
    def details(self, request, pk=None):
        """Change the amount, expected close date or next step; fields left out are kept."""
        opportunity = workable_for(request.user, pk)
        body = OpportunityUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.update_opportunity(
            opportunity_id=opportunity.pk,
            by=request.user,
            amount=data.get("amount", opportunity.amount),
            close_date=data.get("close_date", opportunity.close_date),
            next_step=data.get("next_step", opportunity.next_step),
        )
        return self._answer(opportunity.pk)


class StageViewSet(viewsets.ReadOnlyModelViewSet):
    """The pipeline's stages in order: open stages are worked in ``position`` order; a won or
    lost stage closes the opportunity. Edited in the admin."""

    permission_classes = [permissions.IsAuthenticated, SeesOpportunities]
    serializer_class = PipelineStageSerializer
    queryset = Stage.objects.order_by("position", "id")
    pagination_class = None
    filterset_class = None
    lookup_value_regex = r"\d+"


def register(router) -> None:
    router.register("opportunities", OpportunityViewSet, basename="opportunity")
    router.register("stages", StageViewSet, basename="stage")
