# The insight refresh follows campaign edits (a channel edited changes its leads' facts):
# when each campaign last changed, and an index to look up the recent ones. Existing
# campaigns take the migration's time.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_handoff_event_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
        migrations.AddIndex(
            model_name="campaign",
            index=models.Index(fields=["updated_at"], name="campaign_updated"),
        ),
    ]
