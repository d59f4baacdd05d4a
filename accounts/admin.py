"""The admin of closing: accounts and contacts, the pipeline's stages (edited here), and
opportunities, which are read here and changed through the pages and services (a change in the
admin would skip the timeline, the timers and the lead's closed loop)."""

from django.contrib import admin

from .models import Account, Contact, Opportunity, OpportunityEvent, Stage


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("first_name", "last_name", "email", "title", "phone", "lead")
    raw_id_fields = ("lead",)
    extra = 0
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "name", "domain", "industry", "country", "prospector", "account_manager", "customer_since", "created_at",
    )  # fmt: skip
    list_select_related = ("prospector", "account_manager")
    list_filter = ("country",)
    search_fields = ("name", "domain")
    raw_id_fields = ("prospector",)
    # The AM and customer dates change through the account page (assign_account_manager writes
    # the timeline and moves the open renewal work), not here.
    readonly_fields = ("account_manager", "customer_since", "churned_at")
    inlines = [ContactInline]
    show_full_result_count = False  # a count of every account on each page is a wasted scan


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "account", "title", "created_at")
    list_select_related = ("account",)
    search_fields = ("email", "last_name", "first_name", "account__name")
    raw_id_fields = ("account", "lead")
    show_full_result_count = False


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Open stages are worked in position order; one active won and one active lost stage
    close opportunities (the database refuses a second)."""

    list_display = ("name", "position", "kind", "probability", "is_active")
    list_display_links = ("name",)
    list_editable = ("position", "probability", "is_active")
    list_filter = ("kind", "is_active")
    ordering = ("position", "id")


class OpportunityEventInline(admin.TabularInline):
    model = OpportunityEvent
    fields = ("at", "kind", "actor", "from_stage", "to_stage", "message")
    readonly_fields = fields
    ordering = ("-at", "-id")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    """Read-mostly: moves go through the pipeline pages (and their services), which keep the
    timeline, the SLA timers and the lead in step. Only the working details may be corrected."""

    list_display = ("name", "account", "status", "stage", "owner", "sdr", "origin", "amount", "handed_off_at")
    list_select_related = ("account", "stage", "owner", "sdr")
    list_filter = ("status", "stage", "origin", "early_loss")
    search_fields = ("name", "account__name")
    date_hierarchy = "handed_off_at"
    raw_id_fields = ("account", "contact", "lead", "owner", "sdr", "campaign")
    readonly_fields = (
        "name",
        "account",
        "contact",
        "lead",
        "status",
        "stage",
        "owner",
        "sdr",
        "campaign",
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
    )
    fieldsets = (
        (None, {"fields": ("name", "account", "contact", "lead", "status", "stage", "owner")}),
        ("Source", {"fields": ("sdr", "campaign", "origin")}),
        (
            "Qualification",
            {
                "fields": (
                    ("budget", "budget_note"),
                    ("authority", "authority_note"),
                    ("need", "need_note"),
                    ("timing", "timing_note"),
                    ("asked_for_meeting", "proposed_meeting_at"),
                )
            },
        ),
        ("Working details", {"fields": ("amount", "close_date", "next_step")}),
        (
            "Moments",
            {
                "fields": (
                    "handed_off_at",
                    "accepted_at",
                    ("rejected_at", "reject_reason", "reject_note"),
                    ("closed_at", "lost_reason", "lost_note", "early_loss"),
                    "updated_at",
                )
            },
        ),
    )
    inlines = [OpportunityEventInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # opportunities are born from a handoff

    def has_delete_permission(self, request, obj=None):
        return False  # the metrics count every one
