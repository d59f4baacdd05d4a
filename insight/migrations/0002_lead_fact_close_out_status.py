"""LeadFact.close_out_status: where the last close-out sent the lead ('disqualified' or
'nurture'), so the funnel's dispositions stop guessing it from the lead's status now.

The facts already written are filled in the same statement the refresh uses for it (the last
close-out status event per lead), one UPDATE in SQL, so the dispositions are right from the
deploy on rather than from the next nightly rebuild."""

from django.db import migrations, models

SALES_STATUSES = ("mql", "working", "handed_off")


def fill_close_out_status(apps, schema_editor):
    """Each closed-out fact gets the to_status of its lead's last close-out event (the same
    event ``closed_out_at`` was read from: latest ``at``, then highest id)."""
    fact = apps.get_model("insight", "LeadFact")._meta.db_table
    event = apps.get_model("leads", "LeadEvent")._meta.db_table
    sales = ", ".join(f"'{s}'" for s in SALES_STATUSES)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {fact} SET close_out_status = COALESCE(("
            f" SELECT e.to_status FROM {event} e WHERE e.lead_id = {fact}.lead_id AND e.kind = 'status'"
            f" AND (e.to_status = 'disqualified' OR (e.to_status = 'nurture' AND e.from_status IN ({sales})))"
            " ORDER BY e.at DESC, e.id DESC LIMIT 1), '')"
            " WHERE closed_out_at IS NOT NULL"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0001_initial"),
        ("leads", "0009_handoff_event_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="leadfact",
            name="close_out_status",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Where the last close-out sent the lead: 'disqualified' or 'nurture' (its status"
                    " then; the status now may have moved on, e.g. recycled after a later loss)."
                ),
                max_length=16,
            ),
        ),
        migrations.RunPython(fill_close_out_status, migrations.RunPython.noop, elidable=True),
    ]
