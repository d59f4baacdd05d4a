"""Exactly once under concurrency, on real PostgreSQL transactions in threads: workers running
the weekly-summary task at the same instant send each person one email, and a repeat sends
none."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection

from insight import summary
from insight.models import WeeklySummary
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import CalendarFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SEND = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)  # after Monday 08:00 in Berlin, UTC and New York
ROLES = [Role.MANAGER, Role.INBOUND_SDR, Role.OUTBOUND_SDR, Role.AE, Role.AM, Role.MARKETING]


@pytest.fixture
def people(db) -> list:
    """36 people in three time zones (Berlin, New York, no team), every role."""
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    new_york = TeamFactory(
        name="NY", kind="sales", calendar=CalendarFactory(name="New York office", timezone="America/New_York")
    )
    berlin = TeamFactory()
    teams = [berlin, new_york, None]
    return [
        UserFactory(username=f"p{i:02}", role=ROLES[i % len(ROLES)], team=teams[i % 3]) for i in range(36)
    ]


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_racing_send_each_person_exactly_one_email(people, workers):
    outcomes = run_concurrently(*[lambda: summary.send_due(now=SEND, batch_size=5)] * workers)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.sent for o in outcomes) == len(people)
    assert sum(o.claimed for o in outcomes) == len(people)
    assert sum(o.failed for o in outcomes) == 0
    assert Counter(m.to[0] for m in mail.outbox) == Counter({p.email: 1 for p in people})
    rows = WeeklySummary.objects.all()
    assert rows.count() == len(people)
    assert set(rows.values_list("state", "week")) == {("sent", date(2026, 3, 2))}

    again = run_concurrently(*[lambda: summary.send_due(now=SEND + timedelta(hours=1))] * workers)
    assert [o.claimed for o in again] == [0] * workers
    assert len(mail.outbox) == len(people)


def test_a_retry_of_failed_sends_racing_itself_sends_each_once(people):
    """Two runs take back the week's failed sends at once: each is sent by one of them."""
    failed = people[:10]
    WeeklySummary.objects.bulk_create(
        WeeklySummary(user=p, week=date(2026, 3, 2), state="failed", failure="Mail server: refused")
        for p in failed
    )

    outcomes = run_concurrently(*[lambda: summary.send_due(now=SEND)] * 3)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Counter(m.to[0] for m in mail.outbox) == Counter({p.email: 1 for p in people})
    assert set(WeeklySummary.objects.values_list("state", "failure")) == {("sent", "")}
