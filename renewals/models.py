"""Account management: customers' contracts, the renewal of each, and the account's timeline.

A won opportunity makes its account a customer with a ``Contract`` and an account manager. A
daily task opens each contract's renewal ``start_days`` before it ends (the renewal
opportunity, an AM work item "start the renewal conversation", and a timer that breaches if
the renewal is still open when the contract ends) and, ``reminder_days`` before the end, a
reminder when nobody has talked to the customer yet. A ``RenewalStep`` row per contract and
window, unique, is what makes each window happen exactly once whoever runs the task and how
often. Outcomes (renewed, expanded, downsized, churned) close the contract; a renewal is a
new contract linked to the old one.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Activity, Opportunity

CHURN_REASONS = (
    "Price / budget",
    "Chose a competitor",
    "Not using it / low adoption",
    "Missing features",
    "Company acquired or closed",
    "Champion left",
    "Poor support experience",
    "Other",
)


class RenewalSettings(models.Model):
    """The renewal windows, edited in the admin (one row). A change applies from the next daily
    run: contracts already inside a wider window get their items then; items already opened
    stay."""

    start_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days before a contract ends to open its renewal and ask the AM to start the conversation.",
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days before the end to remind the AM and their manager if nobody has talked to the customer.",
    )
    term_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Length of the contract a won opportunity creates, and of a renewed term by default.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "renewal settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_days__lt=F("start_days")), name="renewal_reminder_inside_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Renewals open {self.start_days} days out, reminder at {self.reminder_days}"

    def clean(self) -> None:
        if None not in (self.reminder_days, self.start_days) and self.reminder_days >= self.start_days:
            raise ValidationError(
                {"reminder_days": "The reminder comes after the renewal opens: fewer days than the start."}
            )

    @classmethod
    def load(cls) -> "RenewalSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class ContractQuerySet(models.QuerySet["Contract"]):
    def active(self) -> "ContractQuerySet":
        return self.filter(status=Contract.Status.ACTIVE)

    def visible_to(self, user) -> "ContractQuerySet":
        """AMs see their accounts' contracts; managers their AM teams' (and superusers and
        marketing/ops all, for imports). AEs and SDRs see none: renewals are not theirs
        (``renewals.access.visible_contracts``)."""
        from .access import visible_contracts  # the rules build on these models

        return visible_contracts(user, self)


class Contract(models.Model):
    """One term of a customer's subscription: what they pay per year, for what, until when."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RENEWED = "renewed", "Renewed"  # closed by a new term: renewed, expanded or downsized
        CHURNED = "churned", "Churned"

    class Outcome(models.TextChoices):
        RENEWED = "renewed", "Renewed"
        EXPANDED = "expanded", "Expanded"
        DOWNSIZED = "downsized", "Downsized"
        CHURNED = "churned", "Churned"

    class Source(models.TextChoices):
        WON = "won", "Won opportunity"
        RENEWAL = "renewal", "Renewal"
        IMPORT = "import", "CSV import"
        API = "api", "API"
        MANUAL = "manual", "Entered by hand"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(
        max_length=64,
        blank=True,
        help_text="The contract's number in the billing system (unique when given).",
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    opportunity = models.ForeignKey(
        Opportunity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
        help_text="The won opportunity that created this term.",
    )
    renewed_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )
    renewal = models.OneToOneField(
        Opportunity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal_of",
        help_text="The renewal opportunity, opened when the renewal window starts.",
    )
    start_date = models.DateField()
    end_date = models.DateField(help_text="The term's last day.")
    annual_value = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    products = models.CharField(max_length=300, blank=True)
    seats = models.PositiveIntegerField(null=True, blank=True)
    auto_renew = models.BooleanField(
        default=False,
        help_text="Renews itself on the same terms at the end date unless an outcome is recorded.",
    )

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    churn_reason = models.CharField(max_length=100, blank=True)
    outcome_note = models.TextField(blank=True, max_length=2000)
    renewal_activity_at = models.DateTimeField(
        null=True, blank=True, help_text="When the AM last logged a renewal conversation for this term."
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    work_items = GenericRelation("work.WorkItem", related_query_name="contract")

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["end_date", "id"]
        indexes = [
            # The daily task and the renewals page: active terms by end date, nothing else.
            models.Index(fields=["end_date"], name="contract_active_end", condition=Q(status="active")),
            models.Index(fields=["account", "-end_date"], name="contract_account"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="contract_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="churned") | ~Q(churn_reason=""), name="churned_contract_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(status="active", outcome="") | (~Q(status="active") & ~Q(outcome="")),
                name="contract_outcome_iff_closed",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="contract_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.start_date:%Y-%m-%d} to {self.end_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("renewals:contract", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def days_left(self, today) -> int:
        return (self.end_date - today).days


class RenewalStep(models.Model):
    """That a contract's renewal window was handled: one row per contract and window, unique,
    so the daily task does each exactly once however often and however many workers run it."""

    class Step(models.TextChoices):
        START = "start", "Renewal opened"
        REMINDER = "reminder", "Reminder"

    class Result(models.TextChoices):
        OPENED = "opened", "Items opened"
        SKIPPED = "skipped", "Not needed: the conversation had started"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=8, choices=Step.choices)
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.OPENED)
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["contract", "done_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "step"], name="renewal_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} for contract {self.contract_id}"


class AccountEvent(models.Model):
    """One row per change in a customer account's life: its timeline (beside the
    opportunities' own events)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Became a customer"
        AM_ASSIGNED = "am_assigned", "Account manager assigned"
        CONTRACT = "contract", "Contract added"
        RENEWAL_OPENED = "renewal_opened", "Renewal opened"
        REMINDER = "reminder", "Renewal reminder"
        CONVERSATION = "conversation", "Renewal conversation"
        RENEWED = "renewed", "Renewed"
        EXPANDED = "expanded", "Expanded"
        DOWNSIZED = "downsized", "Downsized"
        CHURNED = "churned", "Churned"
        EXPANSION_LEAD = "expansion_lead", "Expansion lead"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events", db_index=False)
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The change in annual value (an upsell is positive, a downsize or churn negative).",
    )
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "-at"], name="account_event_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class ContractActivity(models.Model):
    """That a call, a meeting or a note (``accounts.Activity``, on the contract's account) was
    logged on this contract, and whether it counted as the renewal conversation: a call or a
    meeting while the contract's renewal window is open is talking to the customer, what the
    reminder waits for."""

    activity = models.OneToOneField(
        Activity, on_delete=models.CASCADE, primary_key=True, related_name="contract_link"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    at = models.DateTimeField(
        help_text="The activity's time, here so the contract's timeline is one index read."
    )
    renewal_conversation = models.BooleanField(
        default=False, help_text="It counted as the renewal conversation (and completed the renewal items)."
    )

    class Meta:
        ordering = ["-at", "-activity"]
        verbose_name_plural = "contract activities"
        indexes = [models.Index(fields=["contract", "-at", "-activity"], name="contract_activity_time")]

    def __str__(self) -> str:
        return f"Activity {self.activity_id} on contract {self.contract_id}"


class ImportedRecord(models.Model):
    """An account or a contact an import made for a customer in its file
    (``services.imported_customers``): what undoing that import removes again, while nobody
    touched it since (``services.remove_imported_customers``)."""

    job = models.ForeignKey("leads.ImportJob", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=True) ^ Q(contact__isnull=True), name="imported_record_one_kind"
            )
        ]

    def __str__(self) -> str:
        made = f"account {self.account_id}" if self.account_id else f"contact {self.contact_id}"
        return f"import {self.job_id} made {made}"
