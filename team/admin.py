from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import BusinessCalendar, Holiday, Team, User, WorkingHours


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_away", "capacity", "is_active")
    list_filter = ("role", "team", "is_away", "is_active")
    list_select_related = ("team",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Refinery", {"fields": ("role", "team", "is_away", "capacity")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Refinery", {"fields": ("role", "team", "capacity")}),
    )


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
