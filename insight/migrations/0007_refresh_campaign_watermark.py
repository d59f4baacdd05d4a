# The refresh's watermark for campaign edits (leads.Campaign.updated_at).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0006_covering_flow_cohort_indexes"),
        ("leads", "0010_campaign_updated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="refreshstate",
            name="campaign_at",
            field=models.DateTimeField(blank=True, help_text="Latest campaign change seen.", null=True),
        ),
    ]
