"""The breach API: list and read the breaches of the teams a manager manages (filtered with
the review page's FilterSet), and acknowledge one with a note."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import access, services
from .filters import BreachFilter, for_list
from .forms import NOTE_MAX
from .models import Breach, WorkItem


class ReviewsBreaches(permissions.BasePermission):
    message = "Only managers review SLA breaches."

    def has_permission(self, request, view):
        return access.may_review_breaches(request.user)


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='What the work item is about, e.g. "lead".')
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.URLField(allow_null=True, help_text="The subject's page (a lead's, with its timeline).")


class BreachSerializer(serializers.ModelSerializer):
    work_item = serializers.IntegerField(source="work_item_id", read_only=True)
    # Plain strings rather than enums: other serializers name the same choices differently,
    # and drf-spectacular warns about (and the deploy check fails on) such collisions.
    kind = serializers.CharField(
        source="work_item.kind", read_only=True, help_text=f"One of: {', '.join(WorkItem.Kind.values)}."
    )
    title = serializers.CharField(source="work_item.title", read_only=True)
    item_state = serializers.CharField(
        source="work_item.state",
        read_only=True,
        help_text=f"The work item now: {', '.join(WorkItem.State.values)}.",
    )
    subject = serializers.SerializerMethodField()
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    owner_name = serializers.SerializerMethodField()
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    late_by_seconds = serializers.SerializerMethodField(
        help_text="How long after its due time the item was done, or has waited so far if still open."
    )
    acknowledged = serializers.BooleanField(source="is_acknowledged", read_only=True)
    acknowledged_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Breach
        fields = [
            "id",
            "work_item",
            "kind",
            "title",
            "item_state",
            "subject",
            "policy",
            "policy_name",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "due_at",
            "detected_at",
            "late_by_seconds",
            "escalation",
            "escalated_at",
            "reassigned_at",
            "acknowledged",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_name",
            "note",
        ]
        read_only_fields = fields

    @extend_schema_field(SubjectSerializer(allow_null=True))
    def get_subject(self, breach):
        subject = breach.work_item.subject
        if subject is None:
            return None
        url = subject.get_absolute_url() if hasattr(subject, "get_absolute_url") else None
        request = self.context.get("request")
        if url and request is not None:
            url = request.build_absolute_uri(url)
        return {"type": subject._meta.model_name, "id": subject.pk, "name": str(subject), "url": url}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, breach):
        return str(breach.owner) if breach.owner_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by_name(self, breach):
        return str(breach.acknowledged_by) if breach.acknowledged_by_id else None

    @extend_schema_field(serializers.IntegerField())
    def get_late_by_seconds(self, breach) -> int:
        return round(breach.late_by.total_seconds())


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default="", help_text="What was done."
    )


class BreachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """SLA breaches in the teams the caller manages (every team for a superuser), newest
    first; the same filters as the breach review page."""

    permission_classes = [permissions.IsAuthenticated, ReviewsBreaches]
    serializer_class = BreachSerializer
    filterset_class = BreachFilter

    def get_queryset(self):
        return for_list(access.visible_breaches(self.request.user), timezone.now())

    @extend_schema(
        request=AcknowledgeSerializer,
        responses={
            200: BreachSerializer,
            400: OpenApiResponse(description="A bad note."),
            409: OpenApiResponse(description="Already acknowledged."),
        },
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Say the breach was seen and what was done; a breach is acknowledged once."""
        breach = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Already acknowledged: the service's refusal is a state one, which the API's handler
        # answers 409 with the reason (kit.api_errors).
        services.acknowledge_breach(
            breach_id=breach.pk, by=request.user, note=serializer.validated_data["note"]
        )
        breach = self.get_queryset().get(pk=breach.pk)
        return Response(self.get_serializer(breach).data)


def register(router) -> None:
    router.register("breaches", BreachViewSet, basename="breach")
