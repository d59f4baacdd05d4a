"""The admin of leads: campaigns, web forms and the scoring configuration are edited here;
what an edit sets off (re-scoring, re-keying, forgetting a cached form) is the services' job
(``services.profile_changed``, ``save_scoring_settings``, ``activity_weights_changed``,
``web_form_changed``), and the hooks below only call them and say what happened."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import models

from kit.errors import Refused

from . import services
from .models import (
    Activity,
    ActivityWeight,
    Campaign,
    FitCriterion,
    IdealCustomerProfile,
    ImportJob,
    Lead,
    LeadEvent,
    ScoringSettings,
    WebForm,
    WebSubmission,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "cost", "starts_on", "ends_on", "is_active")
    list_filter = ("channel", "is_active")
    search_fields = ("name",)


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    list_display = ("name", "campaign", "activity_kind", "key", "is_active")
    list_select_related = ("campaign",)
    readonly_fields = ("key",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # "acme.example" is https://

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.web_form_changed(web_form=obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.web_form_changed(web_form=obj)


@admin.register(WebSubmission)
class WebSubmissionAdmin(admin.ModelAdmin):
    """Submissions waiting for a worker, and the few that could not be captured (with why)."""

    list_display = ("email", "web_form", "received_at", "processed_at", "failure")
    list_filter = ("web_form",)
    list_select_related = ("web_form",)
    show_full_result_count = False


class FitCriterionInline(admin.TabularInline):
    model = FitCriterion
    extra = 1


@admin.register(IdealCustomerProfile)
class IdealCustomerProfileAdmin(admin.ModelAdmin):
    """Editing the profile re-scores every lead, set-based, in a background task."""

    list_display = ("name", "is_active", "updated_at")
    inlines = [FitCriterionInline]

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.profile_changed(then=partial(_say_rescored, request))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.profile_changed(then=partial(_say_rescored, request))


def _say_rescored(request, queued: bool) -> None:
    if queued:
        messages.info(request, "Every lead's fit score is being recomputed in the background.")
    else:
        messages.error(
            request,
            "The profile is saved, but the task queue is unreachable: fit scores were not "
            "recomputed. Save the profile again once the queue is back.",
        )


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    """A half-life change re-keys every lead's engagement so today's values stay the same."""

    list_display = ("__str__", "half_life_days", "mql_threshold", "cold_threshold", "updated_at")

    def has_add_permission(self, request):
        return not ScoringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.save_scoring_settings(
            settings=obj,
            changed=form.changed_data if change else (),
            then=partial(_say_half_life_changed, request),
        )


def _say_half_life_changed(request, change: services.HalfLifeChange) -> None:
    if change.queued:
        messages.info(request, f"The half-life changes to {change.new:g} days once every lead is re-keyed.")
    else:
        messages.error(
            request,
            f"The half-life stays {change.old:g} days: the task queue is unreachable. "
            "Save it again once the queue is back.",
        )


@admin.register(ActivityWeight)
class ActivityWeightAdmin(admin.ModelAdmin):
    list_display = ("kind", "points")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.activity_weights_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.activity_weights_changed()


class LeadAdminForm(forms.ModelForm):
    """A status edited by hand moves as the lifecycle allows (``Lead.TRANSITIONS``)."""

    class Meta:
        model = Lead
        fields = "__all__"  # noqa: DJ007 (the admin's own form: every field the admin shows)

    def clean_status(self):
        status = self.cleaned_data["status"]
        if self.instance.pk and "status" in self.changed_data and not self.instance.can_move_to(status):
            raise forms.ValidationError(
                f"A lead in {self.instance.get_status_display()} cannot move to {Lead.Status(status).label}."
            )
        return status


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    """An edit goes through ``services.update_lead``: only the fields edited are written,
    the change is on the lead's timeline (so the insight facts see it at their next
    refresh), its work follows a new owner, and a status moves through the lifecycle."""

    form = LeadAdminForm
    list_display = (
        "email",
        "first_name",
        "last_name",
        "company",
        "status",
        "fit_grade",
        "owner",
        "captured_at",
    )
    list_filter = ("status", "fit_grade", "hand_raiser", "source")
    list_select_related = ("owner", "campaign")
    search_fields = ("email",)
    show_full_result_count = False
    raw_id_fields = ("owner", "campaign")
    readonly_fields = (
        "fit_score",
        "fit_grade",
        "engagement_key",
        "captured_at",
        "first_seen_at",  # set by the capture or the import (the source's created date)
        "mql_at",
        "status_changed_at",
        # where the lead came from, as its import wrote it
        "external_system",
        "source_attributes",
    )

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        try:
            services.update_lead(lead=obj, fields=form.changed_data, actor=request.user)
        except Refused as exc:  # InvalidTransition: another actor moved the lead meanwhile
            messages.error(request, f"The lead was not changed: {exc}")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "occurred_at", "points", "source")
    list_select_related = ("lead",)
    raw_id_fields = ("lead", "actor", "campaign")
    show_full_result_count = False


@admin.register(LeadEvent)
class LeadEventAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "at", "from_status", "to_status", "actor")
    list_select_related = ("lead", "actor")
    raw_id_fields = ("lead", "actor", "campaign")
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "original_name",
        "state",
        "processed_rows",
        "created_count",
        "refused_count",
        "created_at",
    )
    list_filter = ("state",)
