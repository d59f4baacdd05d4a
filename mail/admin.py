"""The mail app's admin: the suppression list, and email steps' merge fields. The cadence admin is sdr's; mail extends it (sdr must not import mail)
so that an email step's subject and body are checked against the merge fields mail knows when
marketing or a manager saves them, not first when the step comes due."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from sdr.admin import CadenceAdmin, CadenceStepFormSet, CadenceStepInline
from sdr.models import Cadence

from . import services
from .merge import FIELDS, fields_in
from .models import Suppression


class EmailStepFormSet(CadenceStepFormSet):
    """sdr's checks of the steps, plus: every merge field in a subject or body is one mail fills
    in (``mail.merge.FIELDS``)."""

    def clean(self):
        try:
            super().clean()
            refused = None
        except ValidationError as exc:
            refused = exc
        unknown_found = False
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            for name in ("subject", "body"):
                unknown = sorted({f for f in fields_in(data.get(name) or "") if f not in FIELDS})
                if unknown:
                    unknown_found = True
                    form.add_error(
                        name,
                        "Unknown merge field "
                        + ", ".join(f"{{{{ {f} }}}}" for f in unknown)
                        + ". Use one of: "
                        + ", ".join(f"{{{{ {f} }}}}" for f in FIELDS)
                        + ".",
                    )
        if refused is not None:
            raise refused
        if unknown_found:
            raise ValidationError("Some steps use merge fields that do not exist.")


class EmailStepInline(CadenceStepInline):
    formset = EmailStepFormSet


class MailCadenceAdmin(CadenceAdmin):
    inlines = [EmailStepInline]


admin.site.unregister(Cadence)
admin.site.register(Cadence, MailCadenceAdmin)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """The suppression list: who is never emailed again. Adding an address here is
    ``mail.services.suppress`` (its scheduled emails are cancelled); unsubscribes and bounces
    arrive on their own."""

    list_display = ("address", "reason", "at", "detail")
    list_filter = ("reason",)
    search_fields = ("address",)
    fields = ("address", "reason", "detail")
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return ("address", "reason", "detail") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            return
        row, _ = services.suppress(address=obj.address, reason=obj.reason, detail=obj.detail, by=request.user)
        obj.pk = row.pk
