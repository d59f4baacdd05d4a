"""What the contracts API answers with and accepts.

Choice fields are plain strings with their values in the help text: "status", "source" and
"outcome" carry other choice sets elsewhere in the API, and drf-spectacular's enum-name
warnings fail the schema check.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kit import bounds

from .due import bucket_of
from .forms import CONVERSATION_MAX
from .models import CHURN_REASONS, Contract
from .services import MAX_CONTRACT_ROWS

API_IMPORT_ROWS = MAX_CONTRACT_ROWS  # as many as a CSV file


def _one_of(values) -> str:
    return "One of: " + ", ".join(str(v) for v in values) + "."


# --- answers ---------------------------------------------------------------------------------


class ContractAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()
    account_manager = serializers.IntegerField(source="account_manager_id", allow_null=True)
    account_manager_name = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_account_manager_name(self, account):
        return str(account.account_manager) if account.account_manager_id else None


class ContractSerializer(serializers.ModelSerializer):
    """One term of a customer's subscription and where its renewal stands."""

    page = serializers.CharField(source="get_absolute_url", read_only=True, help_text="The contract's page.")
    account = ContractAccountSerializer(read_only=True)
    source = serializers.CharField(read_only=True, help_text=_one_of(Contract.Source.values))  # type: ignore[assignment]  # a declared field, not Field.source
    status = serializers.CharField(read_only=True, help_text=_one_of(Contract.Status.values))
    outcome = serializers.CharField(
        read_only=True, help_text="Empty while active; else " + _one_of(Contract.Outcome.values).lower()
    )
    end_date = serializers.DateField(read_only=True, help_text="The term's last day.")
    renewal = serializers.IntegerField(
        source="renewal_id",
        read_only=True,
        allow_null=True,
        help_text="The renewal opportunity, once opened.",
    )
    renewed_from = serializers.IntegerField(
        source="renewed_from_id", read_only=True, allow_null=True, help_text="The term this one renews."
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "page",
            "number",
            "account",
            "source",
            "start_date",
            "end_date",
            "annual_value",
            "products",
            "seats",
            "auto_renew",
            "status",
            "outcome",
            "closed_at",
            "churn_reason",
            "outcome_note",
            "renewal",
            "renewed_from",
            "renewal_activity_at",
            "created_at",
        ]
        read_only_fields = fields


class RenewalSerializer(ContractSerializer):
    """A renewal coming due, as the renewals page shows it: the contract, its days left, its
    bucket and what puts it at risk."""

    days_left = serializers.SerializerMethodField(
        help_text="Days to the term's last day (negative: past it)."
    )
    bucket = serializers.SerializerMethodField(
        help_text="30: due in 30 days (or past its end); 60: in 31-60 days; 90: in 61-90 days."
    )
    at_risk = serializers.SerializerMethodField()
    risk_reasons = serializers.SerializerMethodField(help_text="Why it is at risk (empty when it is not).")

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "days_left", "bucket", "at_risk", "risk_reasons"]
        read_only_fields = fields

    def get_days_left(self, contract) -> int:
        return contract.days_left(self.context["today"])

    def get_bucket(self, contract) -> int:
        return bucket_of(contract.end_date, self.context["today"])

    def get_at_risk(self, contract) -> bool:
        return bool(self.get_risk_reasons(contract))

    def get_risk_reasons(self, contract) -> list[str]:
        return self.context["risk"].reasons(contract)


class RowResultSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's position in the list, from 1.")
    status = serializers.CharField(help_text="created or refused.")
    message = serializers.CharField(help_text="What was created, or every reason the row was refused.")
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    account = serializers.IntegerField(source="account_id", allow_null=True)
    account_name = serializers.CharField(allow_blank=True)
    problems = serializers.DictField(
        child=serializers.CharField(), help_text="A refused row's reasons by field (empty when created)."
    )


class ImportReportSerializer(serializers.Serializer):
    """What an import did, row by row."""

    created_count = serializers.SerializerMethodField()
    refused_count = serializers.SerializerMethodField()
    rows = RowResultSerializer(many=True)

    def get_created_count(self, report) -> int:
        return len(report.created)

    def get_refused_count(self, report) -> int:
        return len(report.refused)


class OutcomeResultSerializer(serializers.Serializer):
    contract = ContractSerializer(help_text="The contract whose renewal was recorded, now closed.")
    new_term = ContractSerializer(allow_null=True, help_text="The new term (renewed, expanded, downsized).")


# --- requests ----------------------------------------------------------------------------------


def _text(help_text: str = "", **kwargs) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text=help_text, **kwargs
    )


class ContractRowSerializer(serializers.Serializer):
    """One contract, checked as a row of the CSV import is (see ``renewals.services.imports``): the
    values may be written as in a billing export ("$12,000.00", "03/31/2027", "yes").

    Documentation of the body; the checking is ``renewals.services.import_rows.clean_row``, so a JSON
    row and a CSV row are refused for the same reasons with the same messages."""

    account = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="An existing account's id. Without it, the account is found by its domain.",
    )
    domain = _text("The company's web domain (acme.com): finds the account, or creates it with the name.")
    name = _text("The company's name: needed only when no account has the domain.")
    number = _text("The contract's number in the billing system; unique.")
    start_date = _text("The first day, e.g. 2026-03-31 (also 03/31/2026 or 31.03.2026).")
    end_date = _text("The term's last day; today or later, after the start.")
    annual_value = _text('The annual value: "12000.00", "$12,000.00", "12.000,00" (a JSON number works too).')
    products = _text("What they subscribe to (up to 300 characters).")
    seats = serializers.IntegerField(
        required=False, allow_null=True, help_text="Seats or licences, if known."
    )
    auto_renew = serializers.BooleanField(
        required=False, allow_null=True, help_text="Renews itself on the same terms (default no)."
    )
    account_manager = _text(
        "An active AM's username, email or user id: the account is given to them. Empty: the "
        "account keeps its AM, or gets one by territory."
    )


class ConversationSerializer(serializers.Serializer):
    note = serializers.CharField(
        allow_blank=True,
        max_length=CONVERSATION_MAX,
        help_text="What was discussed with the customer.",
    )


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=20, help_text=_one_of(Contract.Outcome.values))
    annual_value = bounds.ApiMoneyField(
        required=False,
        allow_null=True,
        help_text="The new term's annual value (default: the same). Higher for expanded, lower for downsized.",
    )
    end_date = bounds.ApiDateField(
        required=False,
        allow_null=True,
        help_text="The new term's last day (default: as long as this term); 1990-01-01 to 2100-12-31.",
    )
    seats = bounds.ApiCountField(required=False, allow_null=True)
    products = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=300)
    churn_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Needed when churned. " + _one_of(CHURN_REASONS),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
