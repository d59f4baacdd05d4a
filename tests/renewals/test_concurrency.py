"""Exactly once under concurrency, on real PostgreSQL transactions in threads: daily runs
racing each other, and a run racing an AM recording the outcome of the same contract."""

import smtplib
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction

from accounts.models import Opportunity
from renewals.models import AccountEvent, Contract, RenewalStep
from renewals.services import (
    RenewalRun,
    assign_account_manager,
    log_conversation,
    record_outcome,
    run_renewals,
)
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import UserFactory, contract, customer
from work.models import WorkItem

pytestmark = pytest.mark.django_db(transaction=True)

END = date(2026, 6, 30)
SIGNED = date(2025, 7, 1)
RUN_AT = datetime(2026, 6, 4, 5, 30, tzinfo=UTC)  # 26 to 30 days before the ends: both windows


def at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def book(am, am_manager) -> list[Contract]:
    """50 contracts of 5 AMs (10 each, on 50 accounts), none of whose windows has run yet."""
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    ams = [am] + [UserFactory(username=f"am{i}", role=Role.AM, team=am.team) for i in range(4)]
    return [
        contract(
            customer(ams[i % 5], name=f"Customer {i:02}", domain=f"c{i}.example"),
            end=END + timedelta(days=i % 5),
            now=at(SIGNED),
        )
        for i in range(50)
    ]


def per_contract(queryset, *fields) -> Counter:
    return Counter(queryset.values_list(*fields))


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_runs_open_each_window_once_and_mail_each_am_once(book, am_manager, workers):
    outcomes = run_concurrently(*[lambda: run_renewals(now=RUN_AT)] * workers)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert all(isinstance(o, RenewalRun) for o in outcomes)
    ids = sorted(c.pk for c in book)
    assert sorted(pk for o in outcomes for pk in o.opened) == ids
    assert sorted(pk for o in outcomes for pk in o.reminded) == ids
    assert sum(o.emails for o in outcomes) == 5

    steps = per_contract(RenewalStep.objects.all(), "contract_id", "step", "result")
    assert steps == Counter({(pk, step, "opened"): 1 for pk in ids for step in ("start", "reminder")})
    items = per_contract(WorkItem.objects.all(), "object_id", "kind")
    kinds = (WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE, WorkItem.Kind.RENEWAL_REMINDER)
    assert items == Counter({(pk, kind): 1 for pk in ids for kind in kinds})
    renewals = Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL)
    assert renewals.count() == 50
    assert sorted(Contract.objects.values_list("renewal_id", flat=True)) == sorted(
        renewals.values_list("pk", flat=True)
    )
    for term in Contract.objects.select_related("renewal", "account"):
        assert term.renewal.owner_id == term.account.account_manager_id
    events = per_contract(
        AccountEvent.objects.filter(kind__in=["renewal_opened", "reminder"]), "contract_id", "kind"
    )
    assert set(events.values()) == {1} and len(events) == 100

    assert len(mail.outbox) == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted({c.account.account_manager.email for c in book})
    assert all(m.cc == [am_manager.email] for m in mail.outbox)
    urls = [c.get_absolute_url() for c in book]
    listed = Counter(url for m in mail.outbox for url in urls if f"{url}\n" in m.body)
    assert listed == Counter(urls)  # each contract in exactly one email

    again = run_concurrently(*[lambda: run_renewals(now=RUN_AT + timedelta(hours=1))] * workers)
    assert [o.as_dict()["opened"] + o.as_dict()["reminded"] for o in again] == [0] * workers
    assert WorkItem.objects.count() == 150 and len(mail.outbox) == 5


def test_runs_racing_in_small_batches_still_open_each_window_once(book):
    outcomes = run_concurrently(*[lambda: run_renewals(now=RUN_AT, batch_size=7)] * 3)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(len(o.opened) for o in outcomes) == 50 and sum(len(o.reminded) for o in outcomes) == 50
    assert RenewalStep.objects.count() == 100 and WorkItem.objects.count() == 150
    assert Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL).count() == 50
    assert sum(o.emails for o in outcomes) == len(mail.outbox)


def _wait_for_a_blocked_query(deadline_seconds: float = 30) -> bool:
    """True once another connection to this database waits on a lock (the run's claim
    waiting for the contract the outcome holds); False if none does by the deadline."""
    deadline = time.monotonic() + deadline_seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


def test_a_run_that_claims_a_contract_while_its_outcome_commits_opens_nothing_for_it(am, am_manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    outcome_held = threading.Event()
    blocked = []

    def decide():
        with transaction.atomic():
            record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=RUN_AT)
            outcome_held.set()
            blocked.append(_wait_for_a_blocked_query())
        return "renewed"

    def run():
        assert outcome_held.wait(30)
        return run_renewals(now=RUN_AT)

    decided, ran = run_concurrently(decide, run)

    assert decided == "renewed" and blocked == [True]
    assert isinstance(ran, RenewalRun), ran
    assert ran.as_dict() == {"opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0}
    term.refresh_from_db()
    assert term.status == "renewed" and term.renewal.status == Opportunity.Status.WON
    assert Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL).count() == 1
    assert not WorkItem.objects.open().exists() and mail.outbox == []


def test_a_conversation_logged_while_the_reminder_is_claimed_stops_the_reminder(am, am_manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 1)))
    talking = threading.Event()
    blocked = []

    def talk():
        with transaction.atomic():
            log_conversation(contract_id=term.pk, by=am, note="Renewing, same seats.", now=RUN_AT)
            talking.set()
            blocked.append(_wait_for_a_blocked_query())
        return "logged"

    def run():
        assert talking.wait(30)
        return run_renewals(now=RUN_AT)

    logged, ran = run_concurrently(talk, run)

    assert logged == "logged" and blocked == [True]
    assert isinstance(ran, RenewalRun), ran
    assert (ran.reminded, ran.skipped, ran.emails) == ([], [term.pk], 0)
    assert mail.outbox == []
    assert not WorkItem.objects.filter(kind=WorkItem.Kind.RENEWAL_REMINDER).exists()
    assert RenewalStep.objects.get(contract=term, step="reminder").result == RenewalStep.Result.SKIPPED


def test_outcomes_racing_a_run_neither_fail_nor_duplicate(book, am_manager):
    decided_by = {c.pk: c.account.account_manager for c in book}

    def decide_all():
        for term in reversed(book):
            record_outcome(contract_id=term.pk, by=decided_by[term.pk], outcome="renewed", now=RUN_AT)
        return "done"

    ran, decided = run_concurrently(lambda: run_renewals(now=RUN_AT), decide_all)

    assert decided == "done" and isinstance(ran, RenewalRun), (decided, ran)
    old = Contract.objects.filter(pk__in=[c.pk for c in book])
    assert set(old.values_list("status", flat=True)) == {"renewed"}
    assert Contract.objects.filter(renewed_from__in=old).count() == 50
    renewals = Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL)
    assert renewals.count() == 50 and set(renewals.values_list("status", flat=True)) == {"won"}
    assert not old.filter(renewal__isnull=True).exists()
    assert not WorkItem.objects.open().exists()
    items = per_contract(WorkItem.objects.all(), "object_id", "kind")
    assert set(items.values()) <= {1}
    assert len(mail.outbox) <= 5 and len({m.to[0] for m in mail.outbox}) == len(mail.outbox)
    assert run_renewals(now=RUN_AT + timedelta(days=1)).as_dict()["opened"] == 0


def test_reassigning_the_am_while_the_run_opens_the_renewal_neither_deadlocks_nor_strands_work(
    am, am_manager, monkeypatch
):
    """The run has claimed the contract's window and is about to open it for Casey when a
    manager gives the account to Dana: the reassignment waits for the run, then takes its work."""
    from renewals.services import windows as services  # where the run looks first_stage up

    dana = UserFactory(username="dana", role=Role.AM, team=am.team)
    account = customer(am)
    term = contract(account, end=END, now=at(SIGNED))
    claimed = threading.Event()
    blocked = []
    first_stage = services.first_stage

    def first_stage_after_the_reassignment_waits():
        """Runs between the claim and the opening: hold the run here until the reassignment
        is waiting on it (so both orders of lock taking are exercised every time)."""
        claimed.set()
        blocked.append(_wait_for_a_blocked_query())
        return first_stage()

    monkeypatch.setattr(services, "first_stage", first_stage_after_the_reassignment_waits)

    def reassign():
        assert claimed.wait(30)
        return assign_account_manager(
            account_id=account.pk, am=dana, by=am_manager, now=at(date(2026, 5, 1), 7)
        )

    ran, reassigned = run_concurrently(lambda: run_renewals(now=at(date(2026, 5, 1))), reassign)

    assert isinstance(ran, RenewalRun) and ran.opened == [term.pk], ran
    assert not isinstance(reassigned, Exception), reassigned
    assert blocked == [True]
    account.refresh_from_db()
    term.refresh_from_db()
    assert account.account_manager == dana and term.renewal.owner == dana
    assert {(i.kind, i.owner_id) for i in WorkItem.objects.open()} == {
        (WorkItem.Kind.RENEWAL_START, dana.pk), (WorkItem.Kind.RENEWAL_DUE, dana.pk),
    }  # fmt: skip
    assert Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL).count() == 1


class HeldMailServer(BaseEmailBackend):
    """A mail server that takes its time: each send waits until the test releases it (or 5 s
    pass), and says meanwhile that it is holding a conversation."""

    sending = threading.Event()
    release = threading.Event()
    holding = False

    def send_messages(self, messages):
        cls = type(self)
        cls.holding = True
        cls.sending.set()
        try:
            released = cls.release.wait(5)
        finally:
            cls.holding = False
        if not released:
            raise smtplib.SMTPServerDisconnected("the test never released the mail server")
        mail.outbox.extend(messages)
        return len(messages)


class RefusingMailServer(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPDataError(451, b"Try again later")


@pytest.fixture
def held_mail(settings):
    HeldMailServer.sending.clear()
    HeldMailServer.release.clear()
    settings.EMAIL_BACKEND = f"{__name__}.HeldMailServer"
    return HeldMailServer


@pytest.fixture
def in_reminder_window(am, am_manager) -> list[Contract]:
    """Two contracts of one AM whose renewals opened (a month ago): at RUN_AT nobody has
    talked to either customer, so the run reminds the AM in one email."""
    terms = [
        contract(customer(am, name=f"Customer {i}", domain=f"c{i}.example"), end=END, now=at(SIGNED))
        for i in range(2)
    ]
    run_renewals(now=at(date(2026, 5, 1)))
    mail.outbox = []
    return terms


def test_an_am_logging_a_conversation_does_not_wait_for_the_mail_server_sending_reminders(
    am, in_reminder_window, held_mail
):
    term = in_reminder_window[0]

    def talk():
        assert held_mail.sending.wait(30)
        log_conversation(contract_id=term.pk, by=am, note="Renewing, same seats.", now=RUN_AT)
        done_while_sending = held_mail.holding
        held_mail.release.set()
        return done_while_sending

    ran, talked_while_sending = run_concurrently(lambda: run_renewals(now=RUN_AT), talk)

    assert isinstance(ran, RenewalRun), ran
    assert talked_while_sending is True  # not queued behind the reminder's SMTP conversation
    assert (sorted(ran.reminded), ran.emails) == (sorted(c.pk for c in in_reminder_window), 1)
    assert len(mail.outbox) == 1
    reminder = WorkItem.objects.get(kind=WorkItem.Kind.RENEWAL_REMINDER, object_id=term.pk)
    assert reminder.state == WorkItem.State.DONE  # the conversation closed the reminder it raced


def test_a_second_run_does_not_wait_for_the_first_ones_mail_server_and_sends_nothing_twice(
    in_reminder_window, held_mail
):
    def second():
        assert held_mail.sending.wait(30)
        run = run_renewals(now=RUN_AT)
        done_while_sending = held_mail.holding
        held_mail.release.set()
        return run, done_while_sending

    first, (second_run, while_sending) = run_concurrently(lambda: run_renewals(now=RUN_AT), second)

    assert isinstance(first, RenewalRun), first
    assert while_sending is True
    assert second_run.as_dict() == {"opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0}
    assert first.emails == 1 and len(mail.outbox) == 1
    assert RenewalStep.objects.filter(step="reminder").count() == 2
    assert WorkItem.objects.filter(kind=WorkItem.Kind.RENEWAL_REMINDER).count() == 2


def test_a_refused_reminder_email_gives_the_reminders_back_to_the_next_run(in_reminder_window, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"
    refused = run_renewals(now=RUN_AT)

    assert (refused.reminded, refused.emails) == ([], 0)
    assert not RenewalStep.objects.filter(step="reminder").exists()
    assert not WorkItem.objects.filter(kind=WorkItem.Kind.RENEWAL_REMINDER).exists()
    assert not AccountEvent.objects.filter(kind=AccountEvent.Kind.REMINDER).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = run_renewals(now=RUN_AT + timedelta(hours=1))

    assert (len(retried.reminded), retried.emails, len(mail.outbox)) == (2, 1, 1)
    assert WorkItem.objects.filter(kind=WorkItem.Kind.RENEWAL_REMINDER).count() == 2
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.REMINDER).count() == 2
