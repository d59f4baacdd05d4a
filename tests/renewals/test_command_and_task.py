"""The daily run's two doors: the ``run_renewals`` management command and the Celery task the
beat schedules every day; both do the same work, once."""

import threading
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from celery.schedules import crontab
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Opportunity
from renewals.models import Contract, RenewalStep
from tests.factories import contract, customer
from tests.workers import real_worker
from work.models import WorkItem

pytestmark = pytest.mark.django_db

END = date(2026, 6, 30)


def at(day: date, hour: int = 5, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def test_the_command_opens_the_windows_and_prints_the_counts(am, am_manager):
    due = contract(customer(am), end=END, now=at(date(2025, 7, 1)))
    later = contract(customer(am, name="Globex", domain="globex.example"), end=END + timedelta(days=20),
                     now=at(date(2025, 7, 1)))  # fmt: skip
    ended = contract(customer(am, name="Initech", domain="initech.example"), end=date(2026, 6, 1),
                     auto_renew=True, now=at(date(2025, 6, 2)))  # fmt: skip
    out = StringIO()

    with time_machine.travel(at(date(2026, 6, 3)), tick=False):
        call_command("run_renewals", stdout=out)

    assert out.getvalue().strip() == (
        "Renewals opened: 3; reminders: 2 (1 emails); reminders not needed: 0; auto-renewed: 1."
    )
    assert {s.contract_id for s in RenewalStep.objects.filter(step="start")} == {due.pk, later.pk, ended.pk}
    assert {s.contract_id for s in RenewalStep.objects.filter(step="reminder")} == {due.pk, ended.pk}
    ended.refresh_from_db()
    assert ended.status == Contract.Status.RENEWED and ended.renewed_by.start_date == date(2026, 6, 2)
    (message,) = mail.outbox
    assert message.to == [am.email] and "Acme GmbH" in message.body

    again = StringIO()
    with time_machine.travel(at(date(2026, 6, 3), 17), tick=False):
        call_command("run_renewals", stdout=again)
    assert again.getvalue().strip() == (
        "Renewals opened: 0; reminders: 0 (0 emails); reminders not needed: 0; auto-renewed: 0."
    )
    assert len(mail.outbox) == 1 and RenewalStep.objects.count() == 5


def test_the_task_runs_the_same_service_on_todays_date(am, am_manager):
    from renewals.tasks import run_renewals as task

    term = contract(customer(am), end=END, now=at(date(2025, 7, 1)))
    with time_machine.travel(at(date(2026, 4, 30)), tick=False):
        assert task() == {"opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0}
    with time_machine.travel(at(date(2026, 5, 1)), tick=False):
        assert task() == {"opened": 1, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0}
        assert task()["opened"] == 0
    term.refresh_from_db()
    assert term.renewal.owner == am
    assert set(WorkItem.objects.values_list("kind", flat=True)) == {"renewal_start", "renewal_due"}


def test_the_beat_runs_the_task_once_a_day_and_expires_it_before_the_next():
    entry = settings.CELERY_BEAT_SCHEDULE["renewals"]
    assert entry["task"] == "renewals.tasks.run_renewals"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7)) and schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
    assert 0 < entry["options"]["expires"] < 24 * 3600


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_from_redis_and_twice_opens_once(am, am_manager):
    from config.celery import app
    from renewals.tasks import run_renewals as task

    assert app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL pointing at Redis"
    today = timezone.localdate()
    term = contract(customer(am), end=today + timedelta(days=20), now=timezone.now() - timedelta(days=60))
    assert not WorkItem.objects.exists()
    finished = []
    both_done = threading.Event()

    def count(sender=None, **kwargs):
        if sender is not None and sender.name == task.name:
            finished.append(kwargs.get("state"))
            if len(finished) == 2:
                both_done.set()

    task_postrun.connect(count, weak=False)
    try:
        with real_worker():
            task.delay()
            task.delay()  # the beat and a manual run at once
            assert both_done.wait(60), finished
    finally:
        task_postrun.disconnect(count)

    assert finished == ["SUCCESS", "SUCCESS"]
    assert RenewalStep.objects.filter(contract=term).count() == 2
    assert Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL).count() == 1
    assert WorkItem.objects.count() == 3
    (message,) = mail.outbox  # the worker runs in this process, with the test's mail outbox
    assert message.to == [am.email] and message.cc == [am_manager.email]
