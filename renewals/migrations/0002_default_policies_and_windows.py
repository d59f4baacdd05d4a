"""The renewal SLA policies and windows the issue names, with their defaults (editable in the
admin)."""

from django.db import migrations

POLICIES = [
    ("renewal-start", "Start a renewal conversation (5 business days)", 5 * 8 * 60, "business"),
    ("renewal-reminder", "Renewal reminder (2 business days)", 2 * 8 * 60, "business"),
    ("renewal-due", "Renewal closed by the contract's last day", 24 * 60, "wall_clock"),
    ("expansion-lead", "First touch: expansion lead (1 business day)", 8 * 60, "business"),
]


def create(apps, schema_editor):
    SlaPolicy = apps.get_model("work", "SlaPolicy")
    for key, name, minutes, mode in POLICIES:
        SlaPolicy.objects.get_or_create(key=key, defaults={"name": name, "target_minutes": minutes, "mode": mode})
    apps.get_model("renewals", "RenewalSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("renewals", "0001_initial"), ("work", "0005_renewal_kinds")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
