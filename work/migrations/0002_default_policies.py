"""The first-touch SLA policies the issue names, with their defaults (editable in the admin)."""

from django.db import migrations

DEFAULTS = [
    ("first-touch-hand-raiser", "First touch: hand-raiser", 15),
    ("first-touch-mql", "First touch: MQL", 240),
]


def create(apps, schema_editor):
    SlaPolicy = apps.get_model("work", "SlaPolicy")
    for key, name, minutes in DEFAULTS:
        SlaPolicy.objects.get_or_create(
            key=key, defaults={"name": name, "target_minutes": minutes, "mode": "business"}
        )


class Migration(migrations.Migration):
    dependencies = [("work", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
