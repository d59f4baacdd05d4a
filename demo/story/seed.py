"""The seed as a whole: the cast and the configuration first, set up two years ago, then every
storyline replayed in time order up to now (``demo.history.Replay``), then what beat does in its
first minute."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.test.utils import override_settings

from demo.history import Replay, at
from leads import services
from sdr.services import route_waiting_leads
from team.models import User
from work.services import sweep_breaches

from .cast import set_up
from .customers import add_customer_stories
from .deals import add_deal_stories
from .emails import add_email_stories
from .imports import add_import_story
from .marketing import add_lead_stories
from .notifications import settle_notifications
from .outbound import add_target_stories

# The people and campaigns exist before anything happens to them: before the customers' first
# contracts, two years ago.
SETUP_AGO = timedelta(days=2 * 366 + 30)
# The demo's past mails nobody (breach escalations, renewal reminders): the seed would print
# them all with the console backend, and they are history.
QUIET_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


@dataclass(frozen=True)
class Seeded:
    """What the seed's summary says: how many new leads, and who can sign in."""

    created: int
    users: list[User]


def seed(*, leads: int, now: datetime) -> Seeded:
    """Seed the demo data set with ``now`` as its present (idempotent: a second seed adds only
    what is missing). The insight facts are the caller's to compute."""
    with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
        with at(now - SETUP_AGO), transaction.atomic():
            users, campaigns = set_up(today=now.date())
        replay = Replay(now=now)
        created = add_lead_stories(replay, leads, campaigns, now)
        add_target_stories(replay, now)
        add_deal_stories(replay, now)
        customers_seeded = add_customer_stories(replay, now)
        add_email_stories(replay, now)
        add_import_story(replay, now)
        replay.run()
        # What beat does in its first minute, so that nothing long overdue waits for it
        # (an item days past due shows as breached, not as "at risk").
        services.sweep_engagement_thresholds()
        route_waiting_leads()
        if customers_seeded:
            from renewals.services import run_renewals

            run_renewals()
        sweep_breaches()
        settle_notifications(now)
    return Seeded(created=created, users=users)
