"""The breach sweep: every timer past due is recorded once, escalated once, and reassigned
when its policy says so, whatever the sweep's re-runs, races and missed minutes."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from leads.models import Lead
from sdr.services import first_touch_policies, log_touch
from tests.concurrency import run_concurrently
from tests.factories import UserFactory, routed_lead
from tests.workers import real_worker
from work.models import Breach, SlaPolicy, WorkItem
from work.services import sweep_breaches

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


@pytest.fixture(params=["one_statement", "portable"])
def sweep_path(request, monkeypatch):
    """Run each sweep test on the PostgreSQL statement and on the portable path (SQLite's)."""
    if request.param == "portable":
        from work.services import sweep

        monkeypatch.setattr(sweep, "_mark_breaches_sql", sweep._mark_breaches_orm)
    return request.param


@pytest.mark.django_db
def test_a_timer_past_due_is_recorded_once(inbound_sdr, manager, sweep_path):
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=14), tick=False):
        assert sweep_breaches().breached == 0
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=16), tick=False):
        assert sweep_breaches().breached == 1
        assert sweep_breaches().breached == 0  # run twice: nothing new

    breach = Breach.objects.get()
    assert breach.owner == inbound_sdr and breach.team == inbound_sdr.team
    assert breach.due_at == TUESDAY_10 + timedelta(minutes=15)
    assert breach.policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER
    item = WorkItem.objects.for_subject(lead).get()
    assert item.is_open and item.breached_at == TUESDAY_10 + timedelta(minutes=16)
    assert item.sla_state() == "breached"


@pytest.mark.django_db
def test_a_timer_touched_in_time_never_breaches(inbound_sdr, sweep_path):
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=10), tick=False):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    with time_machine.travel(TUESDAY_10 + timedelta(hours=3), tick=False):
        assert sweep_breaches().breached == 0
    assert not Breach.objects.exists()


@pytest.mark.django_db
def test_a_sweep_that_did_not_run_for_an_hour_catches_up(inbound_sdr, other_sdr, sweep_path):
    for minute in range(0, 60, 2):  # thirty timers falling due through the hour
        routed_lead(
            inbound_sdr if minute % 4 else other_sdr,
            hand_raiser=True,
            now=TUESDAY_10 + timedelta(minutes=minute),
        )
    not_yet = routed_lead(inbound_sdr, now=TUESDAY_10)  # an MQL: 4 business hours

    with time_machine.travel(TUESDAY_10 + timedelta(minutes=80), tick=False):
        result = sweep_breaches(batch_size=7)  # several batches
    assert result.breached == 30
    assert Breach.objects.count() == 30
    assert not Breach.objects.filter(work_item__object_id=not_yet.pk).exists()


@pytest.mark.django_db
def test_the_manager_is_emailed_once_per_breach(inbound_sdr, manager, sweep_path):
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10, first_name="Ada", last_name="Lovelace")
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=20), tick=False):
        result = sweep_breaches()
        sweep_breaches()
    assert result.escalated == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert "Ada Lovelace" in message.subject
    assert f"/leads/{lead.pk}/" in message.body and str(inbound_sdr) in message.body
    breach = Breach.objects.get()
    assert breach.escalation == Breach.Escalation.SENT and breach.escalated_at is not None


@pytest.mark.django_db
def test_no_email_when_the_policy_does_not_escalate_or_the_team_has_no_manager(inbound_sdr, sweep_path):
    first_touch_policies()
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_MQL).update(escalate_to_manager=False)
    routed_lead(inbound_sdr, now=TUESDAY_10)  # MQL policy: no escalation
    routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)  # the team has no manager
    with time_machine.travel(TUESDAY_10 + timedelta(days=1), tick=False):
        sweep_breaches()
    assert mail.outbox == []
    assert sorted(Breach.objects.values_list("escalation", flat=True)) == ["no_manager", "off"]


@pytest.mark.django_db
def test_an_email_that_fails_to_send_is_retried_by_the_next_sweep(inbound_sdr, manager, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)
    original = EmailBackend.send_messages

    def smtp_down(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")

    monkeypatch.setattr(EmailBackend, "send_messages", smtp_down)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=20), tick=False):
        result = sweep_breaches()  # logs the failure, does not stop the sweep
    assert result.breached == 1 and result.escalated == 0
    assert Breach.objects.get().escalation == Breach.Escalation.PENDING  # the breach itself is kept

    monkeypatch.setattr(EmailBackend, "send_messages", original)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=21), tick=False):
        assert sweep_breaches().escalated == 1
    assert len(mail.outbox) == 1


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside the sweep: nothing after it runs, no except clause."""


def three_breached_leads(manager) -> None:
    reps = [UserFactory(username=f"rep{i}", team=manager.team) for i in range(3)]
    for rep in reps:
        routed_lead(rep, hand_raiser=True, now=TUESDAY_10)


@pytest.mark.django_db
def test_a_worker_killed_after_sending_an_escalation_never_sends_it_again(manager, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    three_breached_leads(manager)
    original = EmailBackend.send_messages

    def send_then_die(self, messages):
        original(self, messages)
        raise WorkerKilled  # killed after the mail left, before anything else ran

    monkeypatch.setattr(EmailBackend, "send_messages", send_then_die)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=20), tick=False), pytest.raises(WorkerKilled):
        sweep_breaches()
    assert len(mail.outbox) == 1

    monkeypatch.setattr(EmailBackend, "send_messages", original)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=21), tick=False):
        sweep_breaches()  # the restarted worker's next sweep
    assert len(mail.outbox) == 1  # the manager got that email once, not twice
    assert not Breach.objects.filter(escalation=Breach.Escalation.PENDING).exists()


@pytest.mark.django_db
def test_a_refused_escalation_is_retried_without_resending_the_ones_that_went_out(manager, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    three_breached_leads(manager)
    original = EmailBackend.send_messages

    def refuse_the_second(self, messages):
        if len(mail.outbox) >= 1:
            raise ConnectionRefusedError("SMTP server went away")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_the_second)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=20), tick=False):
        assert sweep_breaches().escalated == 1
    assert Breach.objects.filter(escalation=Breach.Escalation.PENDING).count() == 2

    monkeypatch.setattr(EmailBackend, "send_messages", original)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=21), tick=False):
        assert sweep_breaches().escalated == 2
    assert len(mail.outbox) == 3
    assert len({m.body for m in mail.outbox}) == 3  # one email per breach, none twice
    assert Breach.objects.filter(escalation=Breach.Escalation.SENT).count() == 3


@pytest.mark.django_db
def test_a_breached_item_is_reassigned_after_the_further_interval(
    inbound_sdr, other_sdr, manager, sweep_path
):
    first_touch_policies()
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_HAND_RAISER).update(reassign_after_minutes=30)
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)
    item = WorkItem.objects.for_subject(lead).get()
    assert item.reassign_at == TUESDAY_10 + timedelta(minutes=45)

    with time_machine.travel(TUESDAY_10 + timedelta(minutes=20), tick=False):
        assert sweep_breaches().reassigned == 0
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=46), tick=False):
        assert sweep_breaches().reassigned == 1
        assert sweep_breaches().reassigned == 0

    lead.refresh_from_db()
    item.refresh_from_db()
    assert lead.owner == other_sdr and item.owner == other_sdr and item.is_open
    assert Breach.objects.get().reassigned_at is not None
    assert "SLA breached" in lead.events.get(kind="reassigned").message


@pytest.mark.django_db
def test_a_lead_touched_before_its_reassignment_stays(inbound_sdr, other_sdr):
    first_touch_policies()
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_HAND_RAISER).update(reassign_after_minutes=30)
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=TUESDAY_10)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=30), tick=False):
        sweep_breaches()
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    with time_machine.travel(TUESDAY_10 + timedelta(hours=2), tick=False):
        assert sweep_breaches().reassigned == 0
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr and lead.status == Lead.Status.WORKING


@pytest.mark.django_db(transaction=True)
def test_breach_is_recorded_once_when_two_sweeps_race(manager):
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    first_touch_policies()
    reps = [UserFactory(username=f"r{i}", team=manager.team) for i in range(4)]
    for i in range(200):
        routed_lead(reps[i % 4], hand_raiser=True, now=TUESDAY_10)
    later = TUESDAY_10 + timedelta(minutes=30)

    outcomes = run_concurrently(*[lambda: sweep_breaches(now=later, batch_size=25)] * 4)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.breached for o in outcomes) == 200
    assert Breach.objects.count() == 200
    assert sum(o.escalated for o in outcomes) == 200
    assert len(mail.outbox) == 200
    assert len({m.body for m in mail.outbox}) == 200  # each names its own lead: no breach mailed twice


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_from_redis_once(manager, inbound_sdr):
    from config.celery import app
    from work.tasks import sweep_breaches as task

    assert app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL pointing at Redis"
    first_touch_policies()
    routed_lead(inbound_sdr, hand_raiser=True, now=datetime.now(UTC) - timedelta(days=7))
    with real_worker():
        task.delay()
        task.delay()  # the beat and a manual run at once
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Breach.objects.filter(escalation="sent").exists():
            time.sleep(0.2)
        time.sleep(1)  # let the second run finish too

    assert Breach.objects.count() == 1
    assert Breach.objects.get().escalation == Breach.Escalation.SENT
    assert len(mail.outbox) == 1  # the worker runs in this process, with the test's mail outbox
