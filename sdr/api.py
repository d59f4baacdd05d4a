"""The SDR API: my queue, touches, follow-ups, dispositions, reassignment.

    GET  /api/v1/queue/                                my queue (managers: ?rep=<id> or ?unassigned=1)
    POST /api/v1/queue/reassign/                       a whole queue moves (managers)
    POST /api/v1/queue/leads/<lead_id>/touch/          log a touch
    POST /api/v1/queue/leads/<lead_id>/follow-up/      set the next follow-up
    POST /api/v1/queue/leads/<lead_id>/disposition/    nurture or disqualify, with a reason
    POST /api/v1/queue/leads/<lead_id>/reassign/       another rep, or round-robin (managers)
    POST /api/v1/queue/leads/<lead_id>/enroll/         enroll the lead in a cadence
    POST /api/v1/queue/leads/<lead_id>/stop-cadence/   stop its cadence
    GET  /api/v1/cadences/                             the cadences and their steps

An SDR sees and changes only their own queue (another rep's lead is a 404); a manager sees and
changes the queues of the teams they manage (anything outside them is a 404); every other
role gets a 403. A change the lead's state refuses is a 400 with the reason.
"""

from collections import Counter

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kit.api_errors import as_bad_input
from kit.errors import Refused
from leads.models import Lead
from leads.services import IN_SALES
from team.models import User
from work.models import WorkItem

from . import services
from .access import may_manage_queues, may_see_queues, queue_lead_for, reps_of, teams_of
from .models import Cadence, CadenceStep
from .queue import QUEUE_LIMIT, queue_for, unassigned_for
from .serializers import (
    CadenceSerializer,
    DispositionResultSerializer,
    DispositionSerializer,
    EnrollmentResultSerializer,
    EnrollSerializer,
    FollowUpResultSerializer,
    FollowUpSerializer,
    LeadReassignResultSerializer,
    LeadReassignSerializer,
    LeadStateSerializer,
    QueueQuerySerializer,
    QueueReassignResultSerializer,
    QueueReassignSerializer,
    QueueSerializer,
    TouchResultSerializer,
    TouchSerializer,
)
from .services import cadences


class WorksQueue(permissions.BasePermission):
    message = "Your role does not work SDR queues."

    def has_permission(self, request, view):
        return may_see_queues(request.user)


class ManagesReps(permissions.BasePermission):
    message = "Only a manager reassigns leads."

    def has_permission(self, request, view):
        return may_manage_queues(request.user)


def lead_state(pk: int) -> Lead:
    """The lead as a change left it, with its open work items as ``open_items`` (two
    queries)."""
    open_items = Prefetch(
        "work_items", queryset=WorkItem.objects.open().select_related("policy"), to_attr="open_items"
    )
    return Lead.objects.select_related("owner", "team").prefetch_related(open_items).get(pk=pk)


def require_owner(lead: Lead) -> None:
    """A lead waiting in its team's unassigned queue is assigned before it is worked: a touch
    would leave it working with nobody's name on it (and out of every queue), a follow-up
    would land in the manager's own queue."""
    if lead.owner_id is None:
        raise serializers.ValidationError(
            {
                "non_field_errors": [
                    "This lead waits in its team's unassigned queue; assign it to a rep first."
                ]
            }
        )


class QueueViewSet(viewsets.ViewSet):
    """Queues: an SDR's own; a manager's view of their reps' and their teams' unassigned
    queues; and moving a whole queue when a rep leaves."""

    permission_classes = [permissions.IsAuthenticated, WorksQueue]

    @extend_schema(
        parameters=[QueueQuerySerializer],
        responses={
            200: QueueSerializer,
            404: OpenApiResponse(description="No such rep or team among those you manage."),
        },
    )
    def list(self, request):
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rep, unassigned, team = (query.validated_data.get(k) for k in ("rep", "unassigned", "team"))
        user = request.user
        if ((rep and rep != user.pk) or unassigned) and not may_manage_queues(user):
            raise PermissionDenied("You see your own queue only.")
        if unassigned:
            teams = teams_of(user)
            if team:
                teams = teams.filter(pk=team)
            team_ids = list(teams.values_list("pk", flat=True))
            if team and not team_ids:
                raise Http404("No such team among those you manage.")
            owner, items = None, unassigned_for(team_ids)
        else:
            owner = user
            if rep and rep != user.pk:
                owner = get_object_or_404(reps_of(user), pk=rep)
            items = queue_for(owner)
        items = list(items[: QUEUE_LIMIT + 1])
        truncated = len(items) > QUEUE_LIMIT
        # an item whose lead was deleted has nothing to work on
        items = [item for item in items[:QUEUE_LIMIT] if item.subject is not None]
        body = {
            "rep": owner,
            "unassigned": bool(unassigned),
            "count": len(items),
            "truncated": truncated,
            "results": items,
        }
        return Response(QueueSerializer(body, context={"request": request}).data)

    @extend_schema(request=QueueReassignSerializer, responses={200: QueueReassignResultSerializer})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated, ManagesReps])
    def reassign(self, request):
        """Move every open lead of a rep (who leaves, or is away) to another rep, or (``to``
        null) round-robin across the team; what nobody can take waits in the team's unassigned
        queue. Timers keep their due times."""
        body = QueueReassignSerializer(data=request.data, context={"reps": reps_of(request.user)})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            moved = services.reassign_queue(
                from_user=data["from_user"], to=data["to"], by=request.user, reason=data["reason"]
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        shares = Counter(owner for owner in moved.values() if owner is not None)
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=list(shares))}
        result = {
            "from_user": data["from_user"].pk,
            "moved": len(moved),
            "unassigned": sum(1 for owner in moved.values() if owner is None),
            "by_rep": [
                {"id": pk, "name": names.get(pk, ""), "leads": n}
                for pk, n in sorted(shares.items(), key=lambda share: (-share[1], share[0]))
            ],
            "leads": [{"id": lead, "owner": owner} for lead, owner in sorted(moved.items())],
        }
        return Response(QueueReassignResultSerializer(result).data)


@extend_schema(
    parameters=[OpenApiParameter("lead_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The lead.")]
)
class QueueLeadViewSet(viewsets.GenericViewSet):
    """What a rep does to one lead in their queue (and a manager to one in their teams')."""

    permission_classes = [permissions.IsAuthenticated, WorksQueue]
    queryset = Lead.objects.none()  # leads come from queue_lead_for
    lookup_url_kwarg = "lead_id"
    lookup_value_regex = r"\d+"
    serializer_class = LeadStateSerializer

    def get_object(self):
        lead = queue_lead_for(self.request.user, self.kwargs["lead_id"])
        self.check_object_permissions(self.request, lead)
        return lead

    @extend_schema(request=TouchSerializer, responses={201: TouchResultSerializer})
    @action(detail=True, methods=["post"])
    def touch(self, request, lead_id=None):
        """Log a call, email, voicemail, social message or booked meeting. The first touch
        moves the lead to working and stops its first-touch SLA timer; follow-ups due by now
        are done."""
        lead = self.get_object()
        body = TouchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        require_owner(lead)
        try:
            result = services.log_touch(lead_id=lead.pk, by=request.user, **body.validated_data)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        answer = {"lead": lead_state(lead.pk), "activity": result.activity, "completed": result.completed}
        return Response(TouchResultSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FollowUpSerializer, responses={201: FollowUpResultSerializer})
    @action(detail=True, methods=["post"], url_path="follow-up", url_name="follow-up")
    def follow_up(self, request, lead_id=None):
        """Set the lead's next follow-up (it replaces one not yet done)."""
        lead = self.get_object()
        body = FollowUpSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        require_owner(lead)
        try:
            item = services.set_follow_up(lead_id=lead.pk, by=request.user, **body.validated_data)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        answer = {"lead": lead_state(lead.pk), "item": item}
        return Response(FollowUpResultSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DispositionSerializer, responses={200: DispositionResultSerializer})
    @action(detail=True, methods=["post"])
    def disposition(self, request, lead_id=None):
        """Take the lead out of the queue: back to nurture, or disqualified, with a reason."""
        lead = self.get_object()
        body = DispositionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.dispose_lead(lead_id=lead.pk, by=request.user, **body.validated_data)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        return Response(DispositionResultSerializer({"lead": lead_state(lead.pk)}).data)

    @extend_schema(request=LeadReassignSerializer, responses={200: LeadReassignResultSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, ManagesReps])
    def reassign(self, request, lead_id=None):
        """Give the lead to another rep in a team you manage, or (``to`` null) to the next rep
        of its team by round-robin; its timers keep their due times and the reason goes on its
        timeline. Also assigns a lead waiting in the unassigned queue."""
        lead = self.get_object()
        body = LeadReassignSerializer(data=request.data, context={"reps": reps_of(request.user)})
        body.is_valid(raise_exception=True)
        to = body.validated_data["to"]
        if lead.status not in IN_SALES:
            raise serializers.ValidationError(
                {"non_field_errors": [f"A lead in {lead.get_status_display()} is not in a queue."]}
            )
        if to is not None and to.pk == lead.owner_id:
            raise serializers.ValidationError({"to": [f"{to} already has this lead."]})
        try:
            moved = services.reassign_leads(
                lead_ids=[lead.pk], to=to, by=request.user, reason=body.validated_data["reason"]
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        answer = {"moved": lead.pk in moved, "lead": lead_state(lead.pk)}
        return Response(LeadReassignResultSerializer(answer).data)

    @extend_schema(request=EnrollSerializer, responses={201: EnrollmentResultSerializer})
    @action(detail=True, methods=["post"])
    def enroll(self, request, lead_id=None):
        """Enroll the lead in an active cadence: its first step goes in the owner's queue, due
        on the step's business day. A lead is in one cadence at a time."""
        lead = self.get_object()
        body = EnrollSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            enrollment = cadences.enroll(
                lead_id=lead.pk, cadence_id=body.validated_data["cadence"].pk, by=request.user
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        answer = {"lead": lead_state(lead.pk), "enrollment": enrollment}
        return Response(EnrollmentResultSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: EnrollmentResultSerializer,
            400: OpenApiResponse(description="The lead is not in a cadence."),
        },
    )
    @action(detail=True, methods=["post"], url_path="stop-cadence", url_name="stop-cadence")
    def stop_cadence(self, request, lead_id=None):
        """Stop the lead's cadence: its open step leaves the queue."""
        lead = self.get_object()
        try:
            cadences.stop(lead_id=lead.pk, by=request.user)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        enrollment = lead.enrollments.select_related("cadence", "step").order_by("-started_at", "-id").first()
        answer = {"lead": lead_state(lead.pk), "enrollment": enrollment}
        return Response(EnrollmentResultSerializer(answer).data)


class CadenceViewSet(viewsets.ReadOnlyModelViewSet):
    """The cadences (playbooks) and their steps, as the admin defines them; enroll a lead with
    ``POST /api/v1/queue/leads/{lead_id}/enroll/``."""

    permission_classes = [permissions.IsAuthenticated, WorksQueue]
    serializer_class = CadenceSerializer
    queryset = Cadence.objects.prefetch_related(
        Prefetch("steps", queryset=CadenceStep.objects.order_by("position"))
    ).order_by("name", "id")
    filterset_fields = ["is_active"]


def register(router) -> None:
    router.register("queue/leads", QueueLeadViewSet, basename="queue-lead")
    router.register("cadences", CadenceViewSet, basename="cadence")
    router.register("queue", QueueViewSet, basename="queue")
