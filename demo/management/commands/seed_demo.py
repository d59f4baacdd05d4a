"""Demo data: people, teams with business hours in two time zones, campaigns with costs, an
ideal-customer profile, leads with realistic activity, a pipeline, outbound prospects and a
customer base with renewals coming due. Idempotent.

The stories are told in ``demo.story``; this command seeds them, computes the insight facts and
says where to sign in."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from demo.story import DEMO_PASSWORD, WEB_FORM, Seeded, seed
from leads.models import Lead, WebForm

# Where ``bin/run-embedded`` serves the demo (it honours the same PORT variable).
SITE = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


class Command(BaseCommand):
    help = "Seed demo people, teams, calendars, campaigns, a scoring profile and leads (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)

    def handle(self, *args, leads: int, **options):
        seeded = seed(leads=leads, now=timezone.now())
        # The insight pages read the lead facts: compute them all now, not at the nightly rebuild
        # (said at -v 2: the seed's own summary, where to log in, comes first and stays short).
        call_command(
            "insight_refresh", "--full", verbosity=max(0, options["verbosity"] - 1), stdout=self.stdout
        )
        # The learned propensity models, trained on the demo's closed history as the nightly task
        # would; at -v 2 each says whether it learned (and how it did against the fit score) or
        # that the history is too short, which the Best customers page says in any case.
        call_command("train_propensity", verbosity=max(0, options["verbosity"] - 1), stdout=self.stdout)
        if options["verbosity"] >= 1:
            self._summary(seeded)

    def _summary(self, seeded: Seeded):
        users = seeded.users
        form = WebForm.objects.filter(name=WEB_FORM).first()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {seeded.created} new leads, {Lead.objects.count()} in all.")
        )
        self.stdout.write(f"\nOpen {SITE}/login/ and sign in as (password {DEMO_PASSWORD}):")
        by_role: dict[str, list[str]] = {}
        for user in users:
            by_role.setdefault(user.get_role_display(), []).append(user.username)
        width = max(len(", ".join(names)) for names in by_role.values())
        for role, names in by_role.items():
            admin = " (admin)" if any(u.is_superuser for u in users if u.username in names) else ""
            self.stdout.write(f"  {', '.join(names):<{width}}  {role}{admin}")
        if form:
            self.stdout.write(f"\nPublic demo web form: {SITE}/f/{form.key}/")
