"""The search vocabulary (``search.vocabulary``): its table, a trigram index on its words
(PostgreSQL only, as the documents' indexes), and its first build from the records there are."""

from django.db import migrations, models


def index_and_build(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from search import vocabulary

    schema_editor.execute("CREATE INDEX search_word_trigrams ON search_word USING gin (word gin_trgm_ops)")
    vocabulary.rebuild()


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_word_trigrams")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_trigram_indexes"),
        ("leads", "0015_import_mapping_and_source_fields"),
        ("accounts", "0006_account_redirects"),
    ]

    operations = [
        migrations.CreateModel(
            name="Word",
            fields=[("word", models.CharField(max_length=64, primary_key=True, serialize=False))],
        ),
        migrations.RunPython(index_and_build, drop_index, elidable=False),
    ]
