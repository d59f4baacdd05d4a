"""pg_trgm and the GIN trigram indexes search reads (``search.documents``), on PostgreSQL only:
SQLite searches by substring and needs none. The indexes are on other apps' tables but are not
in their models' state, so no other app's migrations change; they are built from the same
expressions the queries use, so the planner matches them.

Non-atomic, with ``CREATE INDEX CONCURRENTLY``: on an installation with a million leads the
build takes a while, and a concurrent build lets captures and edits go on meanwhile."""

from django.db import migrations

from search.documents import DOCUMENT_FIELDS, indexes


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for label in DOCUMENT_FIELDS:
        model = apps.get_model(label)
        for index in indexes(label):
            schema_editor.execute(
                index.create_sql(model, schema_editor, concurrently=True).__str__().replace(
                    "CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1
                )
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for label in DOCUMENT_FIELDS:
        for index in indexes(label):
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index.name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0012_nurture_email_activity"),
        ("accounts", "0004_customers_and_opportunity_kinds"),
        ("renewals", "0002_default_policies_and_windows"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
