"""API: the SDR's hand-off.

    POST /api/v1/handoffs/    qualify a lead and hand it to an AE -> 201 with the opportunity

Follows the SDR API's conventions (sdr/api.py): roles without a queue (AEs, AMs, marketing) get
a 403; a lead outside the caller's queues is named in the body, so it is a 400 on ``lead`` that
does not say whether the lead exists; every invalid input is a 400 with a message per field;
a hand-off the lead's state refuses (disqualified, already handed off) is a 400 with the
service's reason in ``non_field_errors``. The rules of a qualification are
``Qualifying.problems``, shared with the page's form and the service.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.response import Response

from kit import bounds
from kit.api_errors import as_bad_input
from kit.errors import Refused
from sdr.access import queue_lead_for
from sdr.serializers import AwareDateTimeField
from work.models import WorkItem

from .. import services
from ..access import handoff_recipients, may_hand_off
from ..models import Account, Opportunity, Qualification

CRITERIA = ("budget", "authority", "need", "timing")
QUALIFICATION_HELP = ", ".join(Qualification.values) + "."
NOTE_MAX = 2000
BIGINT_MAX = 2**63 - 1


class HandsOff(permissions.BasePermission):
    message = "Only SDRs (and their managers) hand leads off."

    def has_permission(self, request, view):
        return may_hand_off(request.user)


# --- what the API accepts ----------------------------------------------------------------------


def _criterion(help_text: str) -> serializers.CharField:
    # A plain string, not a ChoiceField: an empty or unknown value is one of
    # Qualifying.problems' cases, so the message is the same as the page's. (Four enums with
    # one choice set would also give the schema four names for it.)
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20, help_text=help_text
    )


def _note(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=NOTE_MAX, help_text=help_text
    )


class HandoffSerializer(serializers.Serializer):
    """A qualified lead to hand off: BANT with notes, the meeting to propose, the AE."""

    lead = bounds.ApiIdField(
        max_value=BIGINT_MAX,
        help_text="The lead's id: a lead in your queue (managers: your teams').",
    )
    budget = _criterion(f"Budget: {QUALIFICATION_HELP}")
    budget_note = _note("Is there money for it, and how much?")
    authority = _criterion(f"Authority: {QUALIFICATION_HELP}")
    authority_note = _note("Who decides, and is this person one of them?")
    need = _criterion(f"Need: {QUALIFICATION_HELP} Must be known (confirmed or partly).")
    need_note = _note("What the prospect needs (required).")
    timing = _criterion(f"Timing: {QUALIFICATION_HELP}")
    timing_note = _note("When they want it solved.")
    asked_for_meeting = serializers.BooleanField(
        required=False, default=False, help_text="The prospect asked for the meeting."
    )
    proposed_meeting_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="ISO 8601 with a UTC offset; in the future, within a year. Required when the "
        "prospect asked for the meeting.",
    )
    ae = bounds.ApiPrimaryKeyRelatedField(
        queryset=handoff_recipients(),
        required=False,
        allow_null=True,
        default=None,
        help_text="An active AE's user id; omitted or null: the territory's round-robin picks one.",
        error_messages={
            "does_not_exist": "Choose an active account executive, or leave it to the territory's "
            "round-robin.",
            "incorrect_type": "Give a user id.",
        },
    )
    amount = bounds.ApiMoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Estimated amount (optional).",
    )

    def validate_lead(self, pk: int):
        try:
            return queue_lead_for(self.context["request"].user, pk)
        except (Http404, PermissionDenied):
            # The same answer whether the lead exists or not: ids do not leak who owns what.
            raise serializers.ValidationError("No such lead in your queues.") from None

    def validate(self, attrs):
        if problems := self.qualifying(attrs).problems(self.context["now"]):
            raise serializers.ValidationError(problems)
        return attrs

    @staticmethod
    def qualifying(attrs) -> services.Qualifying:
        return services.Qualifying(
            **{name: attrs[name] for name in (*CRITERIA, *(f"{c}_note" for c in CRITERIA))},
            asked_for_meeting=attrs["asked_for_meeting"],
            proposed_meeting_at=attrs["proposed_meeting_at"],
        )


# --- what the API answers with -----------------------------------------------------------------


class HandoffAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "domain"]
        read_only_fields = fields


class HandoffPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class HandedOffSerializer(serializers.ModelSerializer):
    """The opportunity a hand-off opened, awaiting the AE's answer."""

    # A plain string in the schema, values listed: an enum named "status" would collide with
    # other components' (as in sdr/serializers/).
    status = serializers.CharField(read_only=True, help_text=", ".join(Opportunity.Status.values) + ".")
    account = HandoffAccountSerializer(read_only=True)
    ae = HandoffPersonSerializer(source="owner", read_only=True)
    sdr = HandoffPersonSerializer(read_only=True, allow_null=True)
    acceptance_due_at = serializers.SerializerMethodField(
        help_text="When the AE's acceptance SLA runs out (null once answered)."
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "status",
            "lead",
            "account",
            "contact",
            "ae",
            "sdr",
            "asked_for_meeting",
            "proposed_meeting_at",
            "amount",
            "handed_off_at",
            "acceptance_due_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_acceptance_due_at(self, opportunity):
        """The view reads it with the opportunity and passes it in ``context``."""
        return self.context.get("acceptance_due_at")


# --- the endpoint --------------------------------------------------------------------------------


class HandoffViewSet(viewsets.GenericViewSet):
    """Hand-offs of qualified leads to AEs."""

    permission_classes = [permissions.IsAuthenticated, HandsOff]
    queryset = Opportunity.objects.none()
    serializer_class = HandoffSerializer

    @extend_schema(request=HandoffSerializer, responses={201: HandedOffSerializer})
    def create(self, request):
        """Qualify a lead and hand it to an AE: the account is matched by the email's domain (or
        created), the contact created, the AE chosen by hand or by the territory's round-robin;
        the opportunity waits for the AE under the acceptance SLA and the lead leaves the queue."""
        now = timezone.now()
        body = HandoffSerializer(data=request.data, context={"request": request, "now": now})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            opportunity = services.hand_off(
                lead_id=data["lead"].pk,
                by=request.user,
                qualifying=body.qualifying(data),
                ae=data["ae"],
                amount=data["amount"],
                now=now,
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        opportunity = Opportunity.objects.select_related("account", "owner", "sdr").get(pk=opportunity.pk)
        due_at = (
            WorkItem.objects.open()
            .for_subject(opportunity)
            .filter(kind=WorkItem.Kind.ACCEPT_HANDOFF)
            .values_list("due_at", flat=True)
            .first()
        )
        answer = HandedOffSerializer(opportunity, context={"acceptance_due_at": due_at})
        return Response(answer.data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("handoffs", HandoffViewSet, basename="handoff")
