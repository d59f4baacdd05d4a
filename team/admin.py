from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import zone_choices
from .models import ApiToken, BusinessCalendar, Holiday, Team, User, WorkingHours


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_away", "capacity", "is_active")
    list_filter = ("role", "team", "is_away", "is_active")
    list_select_related = ("team",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]  # django-stubs types it Optional; UserAdmin sets it
        ("Refinery", {"fields": ("role", "team", "is_away", "capacity", "timezone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Refinery", {"fields": ("role", "team", "capacity", "timezone")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":  # the same list as the person's Preferences page
            kwargs["widget"] = forms.Select(
                choices=[("", "Their team calendar's"), ("UTC", "UTC"), *zone_choices()]
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone")
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "manager", "calendar")
    list_filter = ("kind",)
    list_select_related = ("manager", "calendar")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds which API token; an admin may revoke one (delete). Tokens are made by their
    owners (the API tokens page or POST /api/v1/auth/token/): only a digest is stored."""

    list_display = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    exclude = ("digest", "password_fingerprint")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
