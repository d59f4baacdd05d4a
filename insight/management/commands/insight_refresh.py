"""``manage.py insight_refresh [--full]``: bring the lead facts up to date now (the beat task
does it every minute; ``--full`` recomputes every lead, as the nightly task does)."""

from django.core.management.base import BaseCommand

from insight import facts


class Command(BaseCommand):
    help = "Refresh the insight lead facts: the leads changed since the last run, or every lead with --full."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recompute every lead's fact.")

    def handle(self, *args, full: bool = False, **options):
        written = facts.rebuild() if full else facts.refresh()
        noun = "lead fact" if written == 1 else "lead facts"
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(f"{written:,} {noun} written ({'full rebuild' if full else 'incremental'}).")
