from django.contrib import admin

from .models import RoundRobin, TerritoryRule


@admin.register(TerritoryRule)
class TerritoryRuleAdmin(admin.ModelAdmin):
    """Rules are tried in position order; the first that matches picks the team. A rule with
    no conditions is the catch-all."""

    list_display = ("position", "name", "team", "conditions", "is_active")
    list_display_links = ("name",)
    list_editable = ("position", "is_active")
    list_select_related = ("team",)
    list_filter = ("team", "is_active")

    @admin.display(description="Matches")
    def conditions(self, rule: TerritoryRule) -> str:
        return rule.describe()


@admin.register(RoundRobin)
class RoundRobinAdmin(admin.ModelAdmin):
    list_display = ("team", "last_user", "updated_at")
    list_select_related = ("team", "last_user")
    readonly_fields = ("team", "last_user", "updated_at")

    def has_add_permission(self, request):
        return False
