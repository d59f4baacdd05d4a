"""An index on ``leads_lead.updated_at`` for the key refresh (``dedupe.keys.refresh_keys``): the
leads written since the watermark are found by a range scan, not by reading a million leads.
PostgreSQL only, built concurrently so captures and edits go on meanwhile (as search's trigram
indexes); it is not in the lead model's state, so the leads app's migrations do not change. On
SQLite (the embedded mode, thousands of leads) the refresh reads the table."""

from django.db import migrations

INDEX = "dedupe_lead_updated"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}" ON leads_lead (updated_at)')


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("dedupe", "0002_lead_keys"), ("leads", "0016_source_fields_database_defaults")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
