"""The mail app's admin. The cadence admin is sdr's; mail extends it (sdr must not import mail)
so that an email step's subject and body are checked against the merge fields mail knows when
marketing or a manager saves them, not first when the step comes due."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from sdr.admin import CadenceAdmin, CadenceStepFormSet, CadenceStepInline
from sdr.models import Cadence

from .merge import FIELDS, fields_in


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
