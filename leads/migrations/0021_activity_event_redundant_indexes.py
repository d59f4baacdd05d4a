"""The activities' and lead events' single-column indexes on ``lead_id`` (and the activities'
on ``import_job_id``) go: ``activity_lead_time``, ``event_lead_time`` and ``activity_import``
start with the same column and serve every lookup they served (see docs/scaling.md).

Only the indexes are dropped (``DROP INDEX IF EXISTS``, the same statement on PostgreSQL and
SQLite): the AlterField Django would run drops and re-adds each foreign key, which on
PostgreSQL re-checks every row of the table under a lock that stops writes (minutes at a
hundred million rows).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("leads_activity", "leads_activity_lead_id_9cc33a14", "lead_id"),
    ("leads_activity", "leads_activity_import_job_id_e605c021", "import_job_id"),
    ("leads_leadevent", "leads_leadevent_lead_id_426caf75", "lead_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0020_lead_propensity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for table, name, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="import_job",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="leads.importjob",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="leads.lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="leadevent",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="leads.lead",
                    ),
                ),
            ],
        ),
    ]
