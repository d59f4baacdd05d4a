"""The default pipeline stages and the acceptance SLA (1 business day), editable in the admin."""

from django.db import migrations

STAGES = [
    ("Discovery", 10, "open", 10),
    ("Demo", 20, "open", 25),
    ("Proposal", 30, "open", 50),
    ("Negotiation", 40, "open", 75),
    ("Won", 90, "won", 100),
    ("Lost", 99, "lost", 0),
]


def create(apps, schema_editor):
    Stage = apps.get_model("accounts", "Stage")
    for name, position, kind, probability in STAGES:
        Stage.objects.get_or_create(
            name=name, defaults={"position": position, "kind": kind, "probability": probability}
        )
    SlaPolicy = apps.get_model("work", "SlaPolicy")
    SlaPolicy.objects.get_or_create(
        key="accept-handoff",
        defaults={"name": "Accept a handoff (1 business day)", "target_minutes": 480, "mode": "business"},
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("work", "0004_handoff_and_cadence_kinds")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
