"""The admin of insight: the health thresholds (edited here, one row), the lead facts and the
weekly summaries (read here: both are written by the refresh and the summary run, an edit
would be overwritten or would lie), and who gets the weekly summary."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from .models import HealthSettings, LeadFact, SummaryPreference, WeeklySummary


@admin.register(HealthSettings)
class HealthSettingsAdmin(admin.ModelAdmin):
    """One row: the list opens it (made on first use), nobody adds a second or deletes it.
    A change applies to the next diagnosis: nothing is stored with the old thresholds."""

    list_display = (
        "__str__",
        "early_loss_days",
        "early_loss_percent",
        "win_rate_percent",
        "rejection_percent",
        "starved_percent",
        "slow_percent",
        "dropped_days",
        "renewal_days",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return not HealthSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        """The row, made with the defaults if nobody has used it yet (a link to it never 404s)."""
        if str(object_id) == "1":
            HealthSettings.load()
        return super().get_object(request, object_id, from_field)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        settings = HealthSettings.load()
        return HttpResponseRedirect(reverse("admin:insight_healthsettings_change", args=[settings.pk]))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows another part of Refinery writes: viewed here, never changed."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LeadFact)
class LeadFactAdmin(ReadOnlyAdmin):
    list_display = (
        "lead_id",
        "origin",
        "fit_grade",
        "status",
        "campaign",
        "team",
        "sdr",
        "captured_at",
        "handed_off_at",
        "accepted_at",
        "won_at",
        "lost_at",
        "refreshed_at",
    )
    list_select_related = ("campaign", "team", "sdr")
    list_filter = ("origin", "fit_grade")
    search_fields = ("=lead__id",)
    search_help_text = "The lead's id."
    ordering = ("-captured_at", "-lead_id")
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """Only a whole number (that fits a bigint) is a lead id; anything else finds nothing,
        not an error."""
        term = search_term.strip()
        if term and not (term.isdigit() and len(term) <= 18):
            return queryset.none(), False
        return super().get_search_results(request, queryset, term)


@admin.register(WeeklySummary)
class WeeklySummaryAdmin(ReadOnlyAdmin):
    list_display = ("user", "week", "state", "subject", "claimed_at", "sent_at")
    list_select_related = ("user",)
    list_filter = ("state", "week")
    search_fields = ("user__username", "user__email")
    date_hierarchy = "week"


@admin.register(SummaryPreference)
class SummaryPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "weekly_summary", "updated_at")
    list_select_related = ("user",)
    list_filter = ("weekly_summary",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)
