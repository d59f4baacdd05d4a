"""API: the accounts list (an AM's book), with the page's filters.

    GET  /api/v1/accounts/        the accounts I manage, soonest renewal first (?q=, ?status=,
                                  ?renewal_within=, ?risk=, ?owner= for a manager, ?sort=),
                                  paged like every list
    GET  /api/v1/accounts/<id>/   one of them
    GET  /api/v1/accounts/export/            the accounts the filters select, as a CSV file
    GET  /api/v1/accounts/contacts/export/   the contacts at those accounts, as a CSV file
      (contacts have no API of their own: they are exported from the accounts they work at)

Who sees what is ``renewals.book.book_accounts``, as on ``/accounts/``: an AM their accounts, a
manager their AMs', superusers and marketing/ops every account an AM has or had; AEs and SDRs
none (403). An unknown filter value is a 400 naming the parameter, never an empty list.
"""

from django.db.models import F
from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action

from accounts.models import Account, Contact
from kit.exporting import EXPORT_RENDERERS, export_schema

from .book import Status, book_accounts, with_figures
from .exports import ACCOUNT_EXPORT, CONTACT_EXPORT
from .filters import AccountBookFilter


class AccountBookSerializer(serializers.ModelSerializer):
    """A customer account as the accounts list shows it."""

    page = serializers.CharField(source="get_absolute_url", read_only=True, help_text="The account's page.")
    status = serializers.SerializerMethodField(
        help_text="customer, churned or prospect (never a customer yet)."
    )
    account_manager = serializers.IntegerField(source="account_manager_id", read_only=True, allow_null=True)
    account_manager_name = serializers.SerializerMethodField()
    annual_value = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, help_text="The annual value of its active contracts."
    )
    next_renewal = serializers.DateField(
        read_only=True, allow_null=True, help_text="The last day of its soonest-ending active contract."
    )
    at_risk = serializers.BooleanField(
        read_only=True, help_text="A renewal due within 90 days is at risk (as on the renewals page)."
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "page",
            "name",
            "domain",
            "status",
            "account_manager",
            "account_manager_name",
            "customer_since",
            "churned_at",
            "annual_value",
            "next_renewal",
            "at_risk",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_status(self, account) -> str:
        if account.churned_at is not None:
            return Status.CHURNED
        return Status.CUSTOMER if account.customer_since is not None else Status.PROSPECT

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_account_manager_name(self, account):
        return str(account.account_manager) if account.account_manager_id else None


class AccountBookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customer accounts: an AM's book, a manager's AMs'."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AccountBookSerializer
    filterset_class = AccountBookFilter
    queryset = Account.objects.none()  # accounts come from renewals.book.book_accounts

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return (
            with_figures(book_accounts(self.request.user))
            .select_related("account_manager")
            .order_by(F("next_renewal").asc(nulls_last=True), "name", "id")
        )

    def get_object(self) -> Account:
        try:
            account = self.get_queryset().get(pk=self.kwargs["pk"])
        except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
            raise Http404("No such account.") from None
        self.check_object_permissions(self.request, account)
        return account

    @export_schema("accounts")
    @action(detail=False, methods=["get"], renderer_classes=EXPORT_RENDERERS)
    def export(self, request):
        """The accounts the list's filters select, as a CSV file (every row, streamed)."""
        accounts = self.filter_queryset(self.get_queryset())
        return ACCOUNT_EXPORT.response(request, accounts, name="accounts")

    @export_schema("contacts at the accounts")
    @action(detail=False, methods=["get"], url_path="contacts/export", renderer_classes=EXPORT_RENDERERS)
    def contacts_export(self, request):
        """The contacts at the accounts the list's filters select, as a CSV file."""
        accounts = self.filter_queryset(self.get_queryset()).order_by().values("pk")
        contacts = Contact.objects.filter(account_id__in=accounts).order_by(
            "account__name", "account_id", "id"
        )
        return CONTACT_EXPORT.response(request, contacts, name="contacts")


def register(router) -> None:
    router.register("accounts", AccountBookViewSet, basename="account")
