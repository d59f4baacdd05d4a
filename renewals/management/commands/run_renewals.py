"""Run the daily renewal task by hand (or from cron instead of beat): the same service."""

from django.core.management.base import BaseCommand

from renewals import services


class Command(BaseCommand):
    help = (
        "Open the renewals whose window has started, remind AMs whose customers nobody has talked to, "
        "and renew auto-renewing contracts past their end. Safe to run any number of times."
    )

    def handle(self, *args, **options) -> None:
        run = services.run_renewals()
        counts = run.as_dict()
        self.stdout.write(
            "Renewals opened: {opened}; reminders: {reminded} ({emails} emails); reminders not needed: "
            "{skipped}; auto-renewed: {auto_renewed}.".format(**counts)
        )
