"""API: target accounts and their prospects.

    GET  /api/v1/target-accounts/                         the target accounts I see (?q=, ?prospector=)
    POST /api/v1/target-accounts/                         create one (managers)
    GET  /api/v1/target-accounts/<id>/                    one, with its counts
    POST /api/v1/target-accounts/<id>/assign/             give it to an outbound SDR, or nobody (managers)
    GET  /api/v1/target-accounts/<id>/prospects/          its prospects, with lead status and cadence
    POST /api/v1/target-accounts/<id>/prospects/          add prospects: a JSON list (or one object)
    POST /api/v1/target-accounts/<id>/prospects/import/   add prospects from a CSV file (multipart)

Outbound SDRs see their own target accounts, managers their teams' SDRs' (an account another
team prospects is a 404); every other role gets a 403. Adding prospects answers with a report:
each row created or refused with its line and reason, 201 when at least one prospect was
created, 200 when every row was refused; 400 only for a body that is not a list of prospects
(or a CSV file refused as a whole).
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kit import bounds
from kit.api_errors import as_bad_input
from kit.errors import Refused
from leads.models import ActivitySource, Lead
from sdr.services.cadences import cadence_states
from team.models import User

from .. import access, services
from ..filters import TargetAccountFilter
from ..models import Account, Contact
from ..services import prospects

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class SeesTargets(permissions.BasePermission):
    message = "Your role has no target accounts."

    def has_permission(self, request, view):
        return access.can_see_targets(request.user)


class ManagesTargets(permissions.BasePermission):
    message = "Only a manager creates and assigns target accounts."

    def has_permission(self, request, view):
        return access.can_manage_targets(request.user)


# --- what the API answers with ---------------------------------------------------------------


class TargetAccountSerializer(serializers.ModelSerializer):
    """A target account, its outbound SDR, and what the target list shows beside it."""

    prospector_name = serializers.SerializerMethodField()
    prospect_count = serializers.IntegerField(read_only=True)
    active_cadences = serializers.IntegerField(read_only=True, help_text="Prospects in a cadence now.")
    last_touch_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "country",
            "employees",
            "prospector",
            "prospector_name",
            "prospect_count",
            "active_cadences",
            "last_touch_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_prospector_name(self, account):
        return str(account.prospector) if account.prospector_id else None


class ProspectLeadSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = ["id", "status", "owner", "owner_name"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return str(lead.owner) if lead.owner_id else None


class ProspectCadenceSerializer(serializers.Serializer):
    """The lead's latest enrollment: active, or how it ended."""

    cadence = serializers.IntegerField(source="enrollment.cadence_id")
    cadence_name = serializers.CharField(source="enrollment.cadence.name")
    state = serializers.CharField(
        source="enrollment.state", help_text="active, replied, meeting, finished or stopped."
    )
    step = serializers.IntegerField(source="enrollment.step.position", allow_null=True, default=None)
    total_steps = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True, help_text="When the open step is due.")


class ProspectSerializer(serializers.ModelSerializer):
    """A contact at the account, with its lead's status and cadence."""

    lead = ProspectLeadSerializer(read_only=True, allow_null=True)
    cadence = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "email", "first_name", "last_name", "title", "phone", "lead", "cadence", "created_at"]
        read_only_fields = fields

    @extend_schema_field(ProspectCadenceSerializer(allow_null=True))
    def get_cadence(self, contact):
        state = self.context.get("states", {}).get(contact.lead_id)
        if state is None or state.enrollment is None:
            return None
        return ProspectCadenceSerializer(state).data


class AddedProspectSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Its position in the list (1-based), or its line in the file.")
    email = serializers.CharField()
    lead = serializers.IntegerField(source="lead.pk")
    contact = serializers.IntegerField(source="contact.pk")
    name = serializers.CharField(source="contact.__str__")


class RefusedProspectSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Its position in the list (1-based), or its line in the file.")
    email = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ProspectReportSerializer(serializers.Serializer):
    """What adding prospects did, row by row."""

    account = serializers.IntegerField(source="account.pk")
    created_count = serializers.SerializerMethodField()
    refused_count = serializers.SerializerMethodField()
    created = AddedProspectSerializer(many=True)
    refused = RefusedProspectSerializer(many=True)

    def get_created_count(self, result) -> int:
        return len(result.created)

    def get_refused_count(self, result) -> int:
        return len(result.refused)


# --- what the API accepts ----------------------------------------------------------------------


def _assignable(context: dict):
    """The outbound SDRs the requesting manager may assign (none without a request: the schema)."""
    request = context.get("request")
    return access.assignable_prospectors(request.user) if request else User.objects.none()


class TargetAccountCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=300, help_text="The company's web domain, e.g. acme.com.")
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    country = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="", help_text="A country name or ISO code."
    )
    employees = bounds.ApiCountField(required=False, allow_null=True)
    prospector = bounds.ApiPrimaryKeyRelatedField(
        queryset=User.objects.none(),
        help_text="An active outbound SDR in a team you manage.",
        error_messages={
            "does_not_exist": "Choose an active outbound SDR in a team you manage.",
            "incorrect_type": "Give a user id.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospector"].queryset = _assignable(self.context)


class TargetAssignSerializer(serializers.Serializer):
    prospector = bounds.ApiPrimaryKeyRelatedField(
        queryset=User.objects.none(),
        allow_null=True,
        help_text="An active outbound SDR in a team you manage; null: the account is no longer a target.",
        error_messages={
            "does_not_exist": "Choose an active outbound SDR in a team you manage.",
            "incorrect_type": "Give a user id.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospector"].queryset = _assignable(self.context)


def _text_field(help_text: str = "") -> serializers.CharField:
    # Cleaned (and refused with a reason, row by row) by add_prospects, as a CSV row is.
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text=help_text)


class ProspectRowSerializer(serializers.Serializer):
    """One prospect. Only the email is needed; a row without a valid one is refused (reported,
    not a 400). Company, industry, size and country default to the account's."""

    email = _text_field("Needed: a row without a valid email is refused.")
    first_name = _text_field()
    last_name = _text_field()
    title = _text_field()
    phone = _text_field()
    country = _text_field("A country name or ISO code; empty: the account's.")
    industry = _text_field("Empty: the account's.")
    employees = _text_field("Empty: the account's.")


class ProspectImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"A CSV file (UTF-8) with a header row naming an email column; at most "
        f"{prospects.MAX_PROSPECT_ROWS:,} rows."
    )


# --- views -----------------------------------------------------------------------------------


class TargetAccountViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Target accounts: the named companies outbound SDRs prospect."""

    permission_classes = [permissions.IsAuthenticated, SeesTargets]
    serializer_class = TargetAccountSerializer
    filterset_class = TargetAccountFilter
    queryset = Account.objects.none()  # accounts come from access.visible_targets

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        accounts = access.visible_targets(self.request.user).select_related("prospector")
        return services.with_counts(accounts).order_by("name", "id")

    def get_object(self):
        """The account (403 for roles without targets, 404 for one the user may not see), with
        its counts."""
        account = access.target_for(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, account)
        return services.with_counts(Account.objects.filter(pk=account.pk)).select_related("prospector").get()

    def _answer(self, account_id: int) -> dict:
        account = services.with_counts(Account.objects.filter(pk=account_id)).select_related("prospector")
        return TargetAccountSerializer(account.get(), context=self.get_serializer_context()).data

    @extend_schema(request=TargetAccountCreateSerializer, responses={201: TargetAccountSerializer})
    def create(self, request, *args, **kwargs):
        """Create a target account for one of your outbound SDRs (managers). The domain is
        stored lower case, without scheme or "www.", and is unique: a company already known is
        assigned, not created twice (400 naming the account that has it)."""
        if not access.can_manage_targets(request.user):
            raise PermissionDenied("Only a manager creates target accounts.")
        body = TargetAccountCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            account = services.create_target_account(by=request.user, **body.validated_data)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        return Response(self._answer(account.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=TargetAssignSerializer, responses={200: TargetAccountSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, ManagesTargets])
    def assign(self, request, pk=None):
        """Give the account to an outbound SDR of your teams, or (null) make it a plain account."""
        account = self.get_object()
        body = TargetAssignSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            services.assign_prospector(
                account_id=account.pk, by=request.user, prospector=body.validated_data["prospector"]
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        return Response(self._answer(account.pk))

    @extend_schema(methods=["GET"], request=None, responses={200: ProspectSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=ProspectRowSerializer(many=True),
        responses={201: ProspectReportSerializer, 200: ProspectReportSerializer},
        description="Add prospects: a JSON list of rows (or one row object). Each row is created "
        "or refused with its reason (invalid email, already a lead, already a contact, repeated in "
        "the list); 201 when at least one was created, 200 when every row was refused.",
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser])
    def prospects(self, request, pk=None):
        """The account's prospects (GET, paged), or add some (POST)."""
        account = self.get_object()
        if request.method == "GET":
            return self._list_prospects(request, account)
        data = request.data
        if isinstance(data, dict) and not hasattr(data, "getlist"):
            data = [data]
        if not isinstance(data, list):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON list of prospects (or one prospect object)."]}
            )
        if not data:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one prospect."]})
        if len(data) > prospects.MAX_PROSPECT_ROWS:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        f"At most {prospects.MAX_PROSPECT_ROWS:,} prospects at a time; "
                        f"this list has {len(data):,}. Split it."
                    ]
                }
            )
        body = ProspectRowSerializer(data=data, many=True)
        body.is_valid(raise_exception=True)
        try:
            result = services.add_prospects(
                account_id=account.pk, by=request.user, rows=body.validated_data, via=ActivitySource.API
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ProspectReportSerializer(result).data, status=code)

    def _list_prospects(self, request, account: Account) -> Response:
        page = self.paginate_queryset(services.prospects_of(account))
        assert page is not None  # the viewset has a paginator
        states = cadence_states(c.lead_id for c in page if c.lead_id)
        data = ProspectSerializer(page, many=True, context={"request": request, "states": states}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=ProspectImportSerializer,
        responses={201: ProspectReportSerializer, 200: ProspectReportSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="prospects/import",
        url_name="prospects-import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_prospects(self, request, pk=None):
        """Add prospects from a CSV file (multipart, field ``file``): the same report, with the
        file's line numbers. A file without an email column, not UTF-8, or over the row limit
        is refused whole (400 on ``file``)."""
        account = self.get_object()
        body = ProspectImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                {"file": [f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it."]}
            )
        try:
            result = services.import_prospects(account_id=account.pk, by=request.user, file=upload.file)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ProspectReportSerializer(result).data, status=code)


def register(router) -> None:
    router.register("target-accounts", TargetAccountViewSet, basename="target-account")
