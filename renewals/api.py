"""API: customers' contracts.

    GET  /api/v1/contracts/                      the contracts I see (?account=, ?status=,
                                                 ?end_after=, ?end_before=, ?account_manager=)
    GET  /api/v1/contracts/<id>/                 one contract
    POST /api/v1/contracts/                      add one contract (managers, marketing/ops)
    POST /api/v1/contracts/import/               add up to 5,000 as a JSON list, with a per-row report
    POST /api/v1/contracts/<id>/conversation/    log a renewal conversation (the account's AM or their manager)
    POST /api/v1/contracts/<id>/outcome/         renewed, expanded, downsized or churned (the same)
    GET  /api/v1/contracts/export/               the contracts the filters select, as a CSV file
    GET  /api/v1/renewals/                       the renewals page's rows (?am=, ?risk=1, ?bucket=30|60|90)

Who sees what is ``Contract.objects.visible_to``: AMs their accounts' contracts, managers their
AM teams', marketing/ops and superusers all; AEs and SDRs none (an empty list, 404 for one).
Adding contracts is for those who import leads (managers, marketing/ops, superusers): 403 for
anyone else. Renewal work is for the account's AM, their manager or a superuser: 403 for a role
that never does it, 404 for a contract the caller does not see. A refusal is a 400 with the
field at fault (``non_field_errors`` when it is about the contract's state).
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account
from kit import bounds
from kit.api_errors import as_bad_input
from kit.errors import Refused
from kit.exporting import EXPORT_RENDERERS, export_schema
from kit.parsers import NestingSafeJSONParser
from leads.models import ScoringSettings
from team.models import Role, User

from . import access, book_api, services
from .due import Risk, due_contracts
from .exports import CONTRACT_EXPORT
from .filters import RenewalFilter
from .models import Contract, RenewalSettings
from .serializers import (
    API_IMPORT_ROWS,
    ContractRowSerializer,
    ContractSerializer,
    ConversationSerializer,
    ImportReportSerializer,
    OutcomeResultSerializer,
    OutcomeSerializer,
    RenewalSerializer,
)


class ContractFilter(django_filters.FilterSet):
    """The contracts list's filters. An unknown account or AM is a 400 ("select a valid
    choice"), never an empty page."""

    account = django_filters.ModelChoiceFilter(queryset=Account.objects.all())
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices)
    # ?end_after=2026-01-01&end_before=2026-03-31: last days in the range, both included.
    end = bounds.DateFromToRangeFilter(field_name="end_date", label="End date")
    account_manager = django_filters.ModelChoiceFilter(
        field_name="account__account_manager", queryset=User.objects.filter(role=Role.AM)
    )

    class Meta:
        model = Contract
        fields: list[str] = []


def _row_refused(result: services.RowResult) -> serializers.ValidationError:
    return serializers.ValidationError({name: [message] for name, message in result.problems.items()})


class ContractViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Customers' contracts: the terms renewals are worked on."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    queryset = Contract.objects.none()  # contracts come from Contract.objects.visible_to

    def get_queryset(self) -> QuerySet[Contract]:
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return Contract.objects.visible_to(self.request.user).select_related("account__account_manager")

    def get_object(self) -> Contract:
        try:
            contract = self.get_queryset().get(pk=self.kwargs["pk"])
        except (Contract.DoesNotExist, ValueError, TypeError, OverflowError):
            raise Http404("No such contract.") from None
        self.check_object_permissions(self.request, contract)
        return contract

    def _answer(self, contract_id: int) -> dict:
        contract = Contract.objects.select_related("account__account_manager").get(pk=contract_id)
        return ContractSerializer(contract, context=self.get_serializer_context()).data

    @export_schema("contracts")
    @action(detail=False, methods=["get"], renderer_classes=EXPORT_RENDERERS)
    def export(self, request):
        """The contracts the list's filters select, as a CSV file (every row, streamed)."""
        contracts = self.filter_queryset(self.get_queryset()).order_by(
            "account__name", "account_id", "end_date", "id"
        )
        return CONTRACT_EXPORT.response(request, contracts, name="contracts")

    # --- adding contracts ----------------------------------------------------------------------

    def _check_importer(self) -> None:
        if not access.may_import_contracts(self.request.user):
            raise PermissionDenied("Only managers and marketing/ops add contracts.")

    @extend_schema(
        request=ContractRowSerializer,
        responses={201: ContractSerializer},
        description="Add one contract for a customer (managers, marketing/ops). The account is "
        "the one with ``account``'s id, or the one with ``domain`` (created with ``name`` when no "
        "account has it); it becomes a customer and gets an AM as in the CSV import. A refused "
        "contract is a 400 naming each field at fault.",
    )
    def create(self, request, *args, **kwargs):
        self._check_importer()
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send one contract as a JSON object."]})
        try:
            report = services.add_contract_rows(
                by=request.user, rows=[request.data], source=Contract.Source.API
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        (row,) = report.rows
        if not row.created:
            raise _row_refused(row)
        return Response(self._answer(row.contract_id), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ContractRowSerializer(many=True),
        responses={201: ImportReportSerializer, 200: ImportReportSerializer},
        description=f"Add up to {API_IMPORT_ROWS:,} contracts as a JSON list of rows (the fields of "
        "one contract, checked as a CSV row is; CSV files go through the import page). Each row is "
        "created or refused with its reasons, independently of the others; 201 when at least one "
        "was created, 200 when every row was refused. 400 only for a body that is not a list of "
        "rows, or too long.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[NestingSafeJSONParser],  # a JSON list of rows only
    )
    def import_rows(self, request):
        self._check_importer()
        rows = request.data
        if not isinstance(rows, list):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON list of contracts."]})
        if not rows:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one contract."]})
        if len(rows) > API_IMPORT_ROWS:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        f"At most {API_IMPORT_ROWS:,} contracts at a time; this list has {len(rows):,}. Split it."
                    ]
                }
            )
        try:
            report = services.add_contract_rows(by=request.user, rows=rows, source=Contract.Source.API)
        except Refused as exc:
            raise as_bad_input(exc) from exc
        code = status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
        return Response(ImportReportSerializer(report).data, status=code)

    # --- renewal work --------------------------------------------------------------------------

    def _workable(self) -> Contract:
        """The contract if the caller works its renewal: 403 for roles that never do, 404 for
        a contract they do not see, 403 for one they see but do not work (marketing/ops)."""
        if not access.can_manage_accounts(self.request.user):
            raise PermissionDenied("Your role does not work renewals.")
        contract = self.get_object()
        if not access.may_work_account(self.request.user, contract.account):
            raise PermissionDenied("Only the account's AM (or their manager) works its renewals.")
        return contract

    @extend_schema(request=ConversationSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def conversation(self, request, pk=None):
        """Log a renewal conversation: the start and reminder work items are done, and the
        reminder window will not nag about this contract."""
        contract = self._workable()
        body = ConversationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.log_conversation(
                contract_id=contract.pk, by=request.user, note=body.validated_data["note"]
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        return Response(self._answer(contract.pk))

    @extend_schema(request=OutcomeSerializer, responses={200: OutcomeResultSerializer})
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Record the renewal's outcome. Renewed, expanded and downsized start a new term the
        day after this one ends (same terms unless given; expanded is worth more, downsized
        less); churned needs a reason."""
        contract = self._workable()
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            result = services.record_outcome(
                contract_id=contract.pk,
                by=request.user,
                outcome=data["outcome"],
                annual_value=data.get("annual_value"),
                end_date=data.get("end_date"),
                seats=data.get("seats"),
                products=data.get("products"),
                churn_reason=data.get("churn_reason", ""),
                note=data.get("note", ""),
            )
        except Refused as exc:
            raise as_bad_input(exc) from exc
        context = self.get_serializer_context()
        closed = Contract.objects.select_related("account__account_manager").get(pk=contract.pk)
        new_term = None
        if result.pk != contract.pk:
            new_term = ContractSerializer(
                Contract.objects.select_related("account__account_manager").get(pk=result.pk), context=context
            ).data
        return Response({"contract": ContractSerializer(closed, context=context).data, "new_term": new_term})


class RenewalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The renewals page as an API: the active contracts ending in the next 90 days (and those
    past their end, still open), soonest first, each with its days left, its bucket and what
    puts it at risk. An AM's own; a manager's AM teams' (``?am=`` narrows to one); every AM's
    for a superuser. 403 for every other role, as the page."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RenewalSerializer
    filterset_class = RenewalFilter  # for the schema; list() applies it with the page's rules
    queryset = Contract.objects.none()

    @extend_schema(
        description="The renewals coming due, with the renewals page's filters (``am``, ``risk``, "
        "``bucket``); a value outside a filter's choices is a 400 naming it. Paginated, soonest "
        "end date first."
    )
    def list(self, request, *args, **kwargs):
        user = request.user
        if not access.can_manage_accounts(user):
            raise PermissionDenied("Renewals are the account managers' and their managers'.")
        now = timezone.now()
        today = timezone.localdate(now)
        windows, scoring = RenewalSettings.load(), ScoringSettings.load()
        risk = Risk(now=now, today=today, start_days=windows.start_days, scoring=scoring)
        ams = list(access.account_managers_for(user)) if access.looks_across_ams(user) else None
        renewals = RenewalFilter(
            request.query_params,
            queryset=risk.scope(due_contracts(user, ams, today)),
            request=request,
            risk=risk,
            today=today,
            ams=ams,
        )
        if not renewals.is_valid():
            raise serializers.ValidationError(renewals.errors)
        # The page's ids alone (a top-N read of the due contracts), then those rows with what
        # they show: the risk flags are computed for one page of rows, not for every match.
        ids = self.paginate_queryset(renewals.qs.order_by("end_date", "id").values_list("pk", flat=True))
        rows = (
            risk.scope(Contract.objects.filter(pk__in=list(ids or [])))
            .select_related("account__account_manager")
            .annotate(**risk.flags())
            .order_by("end_date", "id")
        )
        context = {**self.get_serializer_context(), "today": today, "risk": risk}
        return self.get_paginated_response(RenewalSerializer(rows, many=True, context=context).data)


def register(router) -> None:
    router.register("contracts", ContractViewSet, basename="contract")
    book_api.register(router)
    router.register("renewals", RenewalViewSet, basename="renewal")
