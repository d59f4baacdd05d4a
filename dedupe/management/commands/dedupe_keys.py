"""``manage.py dedupe_keys [--rebuild]``: bring the person finder's stored keys up to date now
(the beat task does it every five minutes; ``--rebuild`` recomputes every lead's, as the nightly
task does, and is what a new installation or a changed normalisation needs)."""

from django.core.management.base import BaseCommand

from dedupe import people


class Command(BaseCommand):
    help = "Refresh the duplicate finder's keys: the leads written since the last run, or every lead with --rebuild."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recompute every lead's keys.")

    def handle(self, *args, rebuild: bool = False, **options):
        done = people.refresh(full=rebuild)
        if options.get("verbosity", 1) >= 1:
            noun = "lead's keys" if done.changed == 1 else "leads' keys"
            self.stdout.write(
                f"{done.changed:,} {noun} changed ({'full rebuild' if done.since is None else 'incremental'})."
            )
