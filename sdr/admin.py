import itertools
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet

from .models import Cadence, CadenceStep, Channel, Enrollment, RoundRobin, TerritoryRule

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class CadenceCounts(TypedDict):
    """What the cadence list's queryset annotates."""

    n_steps: int
    n_active: int


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


class CadenceStepFormSet(BaseInlineFormSet):
    """The steps as a whole: day offsets never go back in time as positions go up (a step
    cannot come due before the one it follows). Each position once is the unique constraint's
    job, which the formset already checks across the rows ("duplicate data for position").

    Each step: only an email step has a subject and a body or is sent automatically, and an
    automatic one needs both; a nurture track's steps are all automatic emails (nobody's queue
    holds them). The merge fields in a subject or body are checked by the mail app's admin,
    which knows them (``mail/admin.py``)."""

    def clean(self):
        super().clean()
        nurture = getattr(self.instance, "kind", None) == Cadence.Kind.NURTURE
        steps = []
        wrong = False
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            wrong |= not _email_fields_fit(form, data, nurture=nurture)
            if data.get("position") is None or data.get("day_offset") is None:
                continue  # the field's own error says what is missing
            steps.append((data["position"], data["day_offset"], form))
        steps.sort(key=lambda step: step[0])
        late = False
        for (before, before_offset, _), (position, offset, form) in itertools.pairwise(steps):
            if offset < before_offset:
                late = True
                form.add_error(
                    "day_offset",
                    f"Step {position} comes after step {before} (day {before_offset}): "
                    "its day offset cannot be earlier.",
                )
        if late:
            raise ValidationError("Day offsets go up (or stay) with the position.")
        if wrong:
            raise ValidationError("Some steps' email settings do not fit their channel.")


def _email_fields_fit(form, data: dict, *, nurture: bool) -> bool:
    """One step's channel against its email fields (errors added on the form's fields)."""
    fits = True
    email = data.get("channel") == Channel.EMAIL
    if not email:
        for name in ("automatic", "subject", "body"):
            if data.get(name):
                form.add_error(name, "Only an email step has a subject, a body or sends itself.")
                fits = False
    elif data.get("automatic"):
        for name in ("subject", "body"):
            if not (data.get(name) or "").strip():
                form.add_error(name, "An automatic email needs a subject and a body.")
                fits = False
    if nurture and not (email and data.get("automatic")):
        form.add_error("automatic", "A nurture track's steps are automatic emails.")
        fits = False
    return fits


class CadenceStepInline(admin.StackedInline):
    model = CadenceStep
    formset = CadenceStepFormSet
    fields = (("position", "day_offset", "channel", "automatic"), "instructions", "subject", "body")
    ordering = ("position",)
    extra = 1
    min_num = 0


@admin.register(Cadence)
class CadenceAdmin(admin.ModelAdmin):
    """A playbook of timed touches: ordered steps, each a day offset (business days from the
    enrollment), a channel and what to do; an email step's subject and body, sent by Refinery
    when due if automatic. A nurture track (kind nurture) is automatic emails from its sender to
    leads in nurture. Inactive cadences take no new enrollments; leads already in one finish it."""

    list_display = ("name", "kind", "is_active", "step_count", "active_enrollments")
    fields = ("name", "kind", "sender", "description", "is_active", "created_at")
    readonly_fields = ("created_at",)
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    inlines = [CadenceStepInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_steps=Count("steps", distinct=True),
                n_active=Count(
                    "enrollments", filter=Q(enrollments__state=Enrollment.State.ACTIVE), distinct=True
                ),
            )
        )

    @admin.display(description="Steps", ordering="n_steps")
    def step_count(self, cadence: "WithAnnotations[Cadence, CadenceCounts]") -> int:
        return cadence.n_steps

    @admin.display(description="Leads in it", ordering="n_active")
    def active_enrollments(self, cadence: "WithAnnotations[Cadence, CadenceCounts]") -> int:
        return cadence.n_active


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """Who is in which cadence, read-only: enrolling and stopping go through the queue, the
    lead page or the API, which schedule and cancel the steps."""

    list_display = ("lead", "cadence", "state", "step", "enrolled_by", "started_at", "ended_at")
    list_filter = ("state", "cadence")
    list_select_related = ("lead", "cadence", "step", "enrolled_by")
    search_fields = ("lead__email", "lead__last_name", "cadence__name")
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
