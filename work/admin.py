from django.contrib import admin

from .models import Breach, SlaPolicy, WorkItem


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Targets, business-hours or wall-clock mode and escalation. A change applies to timers
    started after it; the key is what the code asks for, so it cannot be edited or deleted."""

    list_display = (
        "name",
        "key",
        "target_minutes",
        "mode",
        "warn_at_share",
        "escalate_to_manager",
        "reassign_after_minutes",
    )
    list_editable = (
        "target_minutes",
        "mode",
        "warn_at_share",
        "escalate_to_manager",
        "reassign_after_minutes",
    )
    fields = (
        "key",
        "name",
        "target_minutes",
        "mode",
        "warn_at_share",
        "escalate_to_manager",
        "reassign_after_minutes",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("key",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        # Items keep their policy (PROTECT); the first-touch policies are looked up by key.
        return False


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "state", "owner", "team", "due_at", "breached_at", "completed_at")
    list_filter = ("kind", "state", "policy", "team")
    list_select_related = ("owner", "team", "policy")
    search_fields = ("title",)
    raw_id_fields = ("owner", "completed_by")
    readonly_fields = (
        "content_type",
        "object_id",
        "created_at",
        "breached_at",
        "warn_at",
        "completed_at",
        "completed_by",
    )
    show_full_result_count = False
    date_hierarchy = "due_at"


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    list_display = ("work_item", "policy", "owner", "team", "due_at", "escalation", "acknowledged_at")
    list_filter = ("policy", "team", "escalation")
    list_select_related = ("work_item", "policy", "owner", "team")
    raw_id_fields = ("work_item", "owner", "acknowledged_by")
    readonly_fields = ("detected_at", "escalated_at", "reassigned_at")
    show_full_result_count = False
