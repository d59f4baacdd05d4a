"""The admin of account management: the renewal windows (edited here) and contracts, which are
read here and changed through the account and contract pages, the import and the API (an edit
here would skip the timeline and the renewal work items)."""

from django.contrib import admin

from .models import AccountEvent, Contract, RenewalSettings, RenewalStep


@admin.register(RenewalSettings)
class RenewalSettingsAdmin(admin.ModelAdmin):
    """One row. A change applies from the next daily run: contracts already inside a wider
    window get their items then; items already opened stay."""

    list_display = ("__str__", "start_days", "reminder_days", "term_months")

    def has_add_permission(self, request):
        return False  # the row is made by the migration (and by RenewalSettings.load())

    def has_delete_permission(self, request, obj=None):
        return False


class RenewalStepInline(admin.TabularInline):
    model = RenewalStep
    fields = ("step", "result", "done_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "number",
        "annual_value",
        "end_date",
        "status",
        "outcome",
        "auto_renew",
        "source",
    )
    list_select_related = ("account",)
    list_filter = ("status", "outcome", "source", "auto_renew")
    search_fields = ("number", "account__name", "account__domain")
    date_hierarchy = "end_date"
    raw_id_fields = ("account", "opportunity", "renewed_from", "renewal", "created_by")
    readonly_fields = (
        "status", "outcome", "closed_at", "churn_reason", "outcome_note", "renewal_activity_at", "renewal",
        "renewed_from", "source", "created_at", "created_by",
    )  # fmt: skip
    inlines = [RenewalStepInline]
    show_full_result_count = False


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ("at", "account", "kind", "actor", "amount", "message")
    list_select_related = ("account", "actor")
    list_filter = ("kind",)
    search_fields = ("account__name", "message")
    raw_id_fields = ("account", "contract", "actor")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
