from django.contrib import admin

from .models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "text", "created_at", "read_at", "email"]
    list_filter = ["kind", "email"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient"]
    search_fields = ["text", "recipient__username"]
    readonly_fields = ["created_at", "read_at", "emailed_at", "key"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_kinds"]
    raw_id_fields = ["user"]
