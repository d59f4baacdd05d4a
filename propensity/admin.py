"""The model versions, read-only, and the roll back: "Use this version" activates an older
(ready) version through ``services.activate_version``, which re-scores the open leads."""

from django.contrib import admin, messages

from kit.errors import Refused

from . import services
from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "target",
        "status",
        "is_active",
        "trained_at",
        "train_outcomes",
        "held_out_outcomes",
        "auc",
        "fit_auc",
        "brier",
    )
    list_filter = ("target", "status", "is_active")
    actions = ["use_version"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ModelVersion._meta.fields]  # a version is what training wrote

    @admin.action(
        description="Use this version (roll back or forward; re-scores the open leads)",
        permissions=["change"],
    )
    def use_version(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, "Choose exactly one version to use.", messages.ERROR)
            return
        try:
            done = services.activate_version(version=chosen[0])
        except Refused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        note = f"Version {done.version.pk} is in use; {done.rescored} open leads re-scored."
        if done.queue_switched_off:
            note += " It does not beat the fit score, so the queue orders by grade again."
        self.message_user(request, note, messages.SUCCESS)
