"""The renewal timers on a frozen clock: when each window opens, what it opens, that it
opens once whatever the re-runs, catch-up after missed days, month ends and leap years,
configurable windows, customers waiting for an AM, and the end-date breach."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, Opportunity, Stage
from accounts.services import move_stage, update_opportunity
from renewals.models import AccountEvent, Contract, RenewalSettings, RenewalStep
from renewals.services import (
    CATCH_UP_DAYS,
    add_months,
    assign_account_manager,
    log_conversation,
    record_outcome,
    run_renewals,
    term_end,
)
from sdr.models import TerritoryRule
from team.models import Role
from tests.factories import TeamFactory, UserFactory, accepted, contract, customer
from work.models import Breach, WorkItem
from work.services import sweep_breaches

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
END = date(2026, 6, 30)  # a Tuesday; 60 days before is Friday 2026-05-01, 30 days Sunday 2026-05-31
SIGNED = date(2025, 7, 1)


def at(day: date, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def items_of(term: Contract) -> dict[str, WorkItem]:
    items = list(WorkItem.objects.for_subject(term))
    by_kind = {item.kind: item for item in items}
    assert len(by_kind) == len(items), "one item of each kind at most"
    return by_kind


def totals() -> dict[str, int]:
    """Everything the run creates, counted: a re-run must leave each number as it was."""
    return {
        "items": WorkItem.objects.count(),
        "renewals": Opportunity.objects.filter(kind=Opportunity.Kind.RENEWAL).count(),
        "steps": RenewalStep.objects.count(),
        "events": AccountEvent.objects.count(),
        "contracts": Contract.objects.count(),
        "emails": len(mail.outbox),
    }


@pytest.fixture
def other_am(db):
    """Dana, an AM in another team, managed by Nora."""
    nora = UserFactory(username="nora", role=Role.MANAGER, email="nora@example.com")
    team = TeamFactory(name="AMs North", kind="am", manager=nora)
    return UserFactory(username="dana", role=Role.AM, team=team)


# --- the two windows ---------------------------------------------------------------------


def test_61_days_out_nothing_opens(am):
    contract(customer(am), end=END, now=at(SIGNED))
    before = totals()
    run = run_renewals(now=at(date(2026, 4, 30), 23, 59))

    assert run.as_dict() == {"opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0}
    assert totals() == before and before["items"] == before["renewals"] == before["steps"] == 0


def test_at_60_days_the_am_gets_the_renewal_opportunity_and_two_timers(am, am_manager):
    term = contract(customer(am), end=END, value="18000.00", now=at(SIGNED))
    friday_2pm_berlin = at(date(2026, 5, 1), 12)

    run = run_renewals(now=friday_2pm_berlin)

    assert run.opened == [term.pk]
    term.refresh_from_db()
    renewal = term.renewal
    assert renewal.kind == Opportunity.Kind.RENEWAL and renewal.status == Opportunity.Status.OPEN
    assert (renewal.owner, renewal.account_id) == (am, term.account_id)
    assert (renewal.amount, renewal.close_date) == (Decimal("18000.00"), END)
    assert renewal.stage.kind == Stage.Kind.OPEN
    items = items_of(term)
    assert set(items) == {WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE}
    assert {(i.owner, i.team, i.state) for i in items.values()} == {(am, am.team, WorkItem.State.OPEN)}
    # 5 business days of 8 hours in Berlin, Mon-Fri 9-17: Friday 14-17, Monday to Thursday,
    # and Friday 9-14 of the next week.
    start = items[WorkItem.Kind.RENEWAL_START]
    assert start.due_at == datetime(2026, 5, 8, 14, tzinfo=BERLIN)
    assert start.policy.key == "renewal-start"
    # The renewal breaches when the contract's last day is over in Berlin.
    assert items[WorkItem.Kind.RENEWAL_DUE].due_at == datetime(2026, 7, 1, tzinfo=BERLIN)
    assert list(RenewalStep.objects.values_list("contract_id", "step", "result")) == [
        (term.pk, "start", "opened")
    ]
    assert AccountEvent.objects.filter(kind="renewal_opened", contract=term).count() == 1
    assert mail.outbox == []  # the start of the window is a work item, not an email


def test_the_start_item_counted_from_a_saturday_begins_on_monday(am):
    term = contract(customer(am), end=date(2026, 7, 1), now=at(SIGNED))  # 60 days before: Saturday 2 May
    run_renewals(now=at(date(2026, 5, 2), 10))
    start = items_of(term)[WorkItem.Kind.RENEWAL_START]
    assert start.due_at == datetime(2026, 5, 8, 17, tzinfo=BERLIN)  # Monday 9:00 + 40 business hours


@pytest.mark.parametrize(
    ("end", "due"),
    [
        (date(2026, 3, 29), datetime(2026, 3, 29, 22, tzinfo=UTC)),  # a 23-hour day (clocks go forward)
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, tzinfo=UTC)),  # a 25-hour day (clocks go back)
        (date(2026, 12, 31), datetime(2026, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_the_renewal_is_due_at_midnight_after_the_last_day_even_when_the_clocks_change(am, end, due):
    term = contract(customer(am), end=end, now=at(end - timedelta(days=400)))
    run_renewals(now=at(end - timedelta(days=60)))
    assert items_of(term)[WorkItem.Kind.RENEWAL_DUE].due_at == due
    assert due.astimezone(BERLIN).time().hour == 0 and due.astimezone(BERLIN).date() == end + timedelta(1)


def test_an_auto_renewing_contract_has_no_due_timer_and_renews_after_its_end(am):
    term = contract(
        customer(am), end=END, now=at(SIGNED), auto_renew=True, products="CRM Pro", seats=25, value="9600.00"
    )
    run_renewals(now=at(date(2026, 5, 1)))
    assert set(items_of(term)) == {WorkItem.Kind.RENEWAL_START}

    assert run_renewals(now=at(END, 23)).auto_renewed == []  # its last day is not over yet
    run = run_renewals(now=at(END + timedelta(days=1), 0, 30))

    assert run.auto_renewed == [term.pk]
    term.refresh_from_db()
    assert (term.status, term.outcome) == (Contract.Status.RENEWED, Contract.Outcome.RENEWED)
    new = term.renewed_by
    assert (new.start_date, new.end_date) == (date(2026, 7, 1), date(2027, 6, 30))
    assert (new.annual_value, new.products, new.seats, new.auto_renew) == (
        Decimal("9600.00"), "CRM Pro", 25, True,
    )  # fmt: skip
    assert new.source == Contract.Source.RENEWAL and new.status == Contract.Status.ACTIVE
    assert term.renewal.status == Opportunity.Status.WON
    assert not WorkItem.objects.open().exists()
    assert AccountEvent.objects.filter(kind="renewed", contract=term).count() == 1

    before = totals()
    assert run_renewals(now=at(END + timedelta(days=2))).auto_renewed == []
    assert totals() == before


def test_at_30_days_without_a_conversation_each_am_gets_one_email_listing_their_renewals(
    am, am_manager, other_am
):
    acme = contract(customer(am), end=END, now=at(SIGNED))
    globex = contract(customer(am, name="Globex", domain="globex.example"), end=END + timedelta(days=3),
                      value="5000", now=at(SIGNED))  # fmt: skip
    initech = contract(customer(other_am, name="Initech", domain="initech.example"), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 5)))
    assert mail.outbox == []

    run = run_renewals(now=at(date(2026, 5, 31)))  # 30 days before END: Acme and Initech only

    assert sorted(run.reminded) == sorted([acme.pk, initech.pk]) and run.emails == 2
    run = run_renewals(now=at(date(2026, 6, 3)))  # Globex's turn
    assert run.reminded == [globex.pk] and run.emails == 1
    for term in (acme, globex, initech):
        reminder = items_of(term)[WorkItem.Kind.RENEWAL_REMINDER]
        assert reminder.owner == term.account.account_manager and reminder.policy.key == "renewal-reminder"
    first, second, third = mail.outbox
    casey = {m.to[0]: m for m in (first, second)}[am.email]
    assert casey.cc == [am_manager.email]
    assert (
        "Acme GmbH" in casey.body
        and "Tue 30 Jun 2026" in casey.body
        and acme.get_absolute_url() in casey.body
    )
    assert "Initech" not in casey.body and "Globex" not in casey.body
    dana = {m.to[0]: m for m in (first, second)}[other_am.email]
    assert dana.cc == ["nora@example.com"] and "Initech" in dana.body and "Acme" not in dana.body
    assert third.to == [am.email] and "Globex" in third.body and "Acme" not in third.body


def test_one_email_lists_all_the_contracts_an_am_is_reminded_of_on_the_same_day(am, am_manager):
    names = ["Acme GmbH", "Globex", "Initech"]
    for i, name in enumerate(names):
        contract(customer(am, name=name, domain=f"c{i}.example"), end=END, now=at(SIGNED))
    run = run_renewals(now=at(date(2026, 6, 10)))  # missed both marks: the start and the reminder at once

    assert len(run.opened) == 3 and len(run.reminded) == 3 and run.emails == 1
    (message,) = mail.outbox
    assert (message.to, message.cc) == ([am.email], [am_manager.email])
    assert all(name in message.body for name in names) and "3 renewals" in message.subject


def test_a_logged_conversation_means_no_reminder_item_and_no_email(am, am_manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 1)))
    log_conversation(
        contract_id=term.pk, by=am, note="Budget approved for next year.", now=at(date(2026, 5, 20))
    )

    run = run_renewals(now=at(date(2026, 5, 31)))

    assert run.skipped == [term.pk] and run.reminded == [] and run.emails == 0
    assert mail.outbox == []
    assert WorkItem.Kind.RENEWAL_REMINDER not in items_of(term)
    assert RenewalStep.objects.get(contract=term, step="reminder").result == RenewalStep.Result.SKIPPED
    assert not AccountEvent.objects.filter(kind="reminder").exists()
    items = items_of(term)
    assert items[WorkItem.Kind.RENEWAL_START].state == WorkItem.State.DONE
    assert items[WorkItem.Kind.RENEWAL_DUE].state == WorkItem.State.OPEN  # still to be closed by the end


# --- exactly once --------------------------------------------------------------------------


def test_rerunning_the_same_day_the_next_day_or_at_another_hour_opens_nothing_new(am, am_manager):
    contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 1), 5, 30))
    after_start = totals()
    assert after_start["items"] == 2 and after_start["renewals"] == 1 and after_start["steps"] == 1

    for now in (
        at(date(2026, 5, 1), 5, 30),
        at(date(2026, 5, 1), 21),
        at(date(2026, 5, 2), 5, 30),
        at(date(2026, 5, 30), 23, 59),
    ):
        assert run_renewals(now=now).as_dict() == {
            "opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0,
        }  # fmt: skip
        assert totals() == after_start

    run_renewals(now=at(date(2026, 5, 31), 5, 30))
    after_reminder = totals()
    assert after_reminder["items"] == 3 and after_reminder["emails"] == 1 and after_reminder["steps"] == 2
    for now in (
        at(date(2026, 5, 31), 5, 30),
        at(date(2026, 5, 31), 18),
        at(date(2026, 6, 1)),
        at(date(2026, 6, 29)),
    ):
        run_renewals(now=now)
        assert totals() == after_reminder


# --- catching up ---------------------------------------------------------------------------


def test_a_run_after_five_missed_days_opens_the_window_it_missed(am):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 4, 28)))  # the last run before the task stopped: 63 days out
    assert totals()["steps"] == 0

    run = run_renewals(now=at(date(2026, 5, 3)))  # back after 5 days: 58 days out

    assert run.opened == [term.pk] and run.reminded == []
    assert set(items_of(term)) == {WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE}
    assert items_of(term)[WorkItem.Kind.RENEWAL_DUE].due_at == datetime(2026, 7, 1, tzinfo=BERLIN)


def test_a_run_that_missed_both_marks_opens_both_at_once(am, am_manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 4, 20)))

    run = run_renewals(now=at(date(2026, 6, 2)))  # 28 days out: neither window was run

    assert (run.opened, run.reminded, run.emails) == ([term.pk], [term.pk], 1)
    assert set(items_of(term)) == {
        WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE, WorkItem.Kind.RENEWAL_REMINDER,
    }  # fmt: skip
    assert "28 days" in mail.outbox[0].body


def test_a_contract_signed_inside_the_start_window_opens_at_once_without_a_run(am):
    now = at(date(2026, 5, 10), 9)
    term = contract(customer(am), end=END, now=now)  # 51 days before its end

    assert set(items_of(term)) == {WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE}
    term.refresh_from_db()
    assert term.renewal.owner == am and term.renewal.close_date == END
    assert mail.outbox == []
    before = totals()
    assert run_renewals(now=now + timedelta(hours=1)).as_dict()["opened"] == 0
    assert totals() == before


def test_a_contract_signed_inside_the_reminder_window_opens_both_at_once(am, am_manager):
    term = contract(customer(am), end=END, now=at(date(2026, 6, 20)))  # 10 days left

    assert set(items_of(term)) == {
        WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE, WorkItem.Kind.RENEWAL_REMINDER,
    }  # fmt: skip
    (message,) = mail.outbox
    assert message.to == [am.email] and "Acme GmbH" in message.body
    before = totals()
    run_renewals(now=at(date(2026, 6, 21)))
    assert totals() == before


def test_a_contract_that_ended_longer_ago_than_the_catch_up_gets_nothing(am, am_manager):
    today = date(2026, 6, 30)
    stale = contract(customer(am), end=today - timedelta(days=CATCH_UP_DAYS + 1), now=at(today))
    recent = contract(customer(am, name="Globex", domain="globex.example"),
                      end=today - timedelta(days=CATCH_UP_DAYS), now=at(today))  # fmt: skip

    assert items_of(stale) == {} and stale.steps.count() == 0
    assert set(items_of(recent)) == {
        WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE, WorkItem.Kind.RENEWAL_REMINDER,
    }  # fmt: skip
    assert run_renewals(now=at(today + timedelta(days=1))).opened == []
    assert items_of(stale) == {}


# --- month ends and leap years -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (date(2026, 3, 2), 12, date(2027, 3, 1)),
        (date(2027, 3, 1), 12, date(2028, 2, 29)),  # a term over a leap day ends on it
        (date(2028, 3, 1), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a year from a leap day ends on Feb 28
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # Feb has no 31st: the term is all of February
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 1, 28), 1, date(2027, 2, 27)),
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
    ],
)
def test_a_term_ends_the_day_before_its_anniversary_or_on_the_last_day_of_a_short_month(
    start, months, last_day
):
    assert term_end(start, months) == last_day


def test_a_contract_ending_on_a_leap_day_opens_on_new_years_eve_and_reminds_on_january_30(am, am_manager):
    term = contract(customer(am), end=date(2028, 2, 29), start=date(2027, 3, 1), now=at(date(2027, 3, 1)))

    assert run_renewals(now=at(date(2027, 12, 30), 23)).opened == []
    assert run_renewals(now=at(date(2027, 12, 31))).opened == [term.pk]
    assert run_renewals(now=at(date(2028, 1, 29), 23)).reminded == []
    assert run_renewals(now=at(date(2028, 1, 30))).reminded == [term.pk]
    assert "Tue 29 Feb 2028 (30 days)" in mail.outbox[0].body
    assert items_of(term)[WorkItem.Kind.RENEWAL_DUE].due_at == datetime(2028, 3, 1, tzinfo=BERLIN)


def test_a_contract_ending_on_march_31_opens_on_january_30(am):
    term = contract(customer(am), end=date(2026, 3, 31), now=at(date(2025, 4, 1)))
    assert run_renewals(now=at(date(2026, 1, 29), 23, 59)).opened == []
    assert run_renewals(now=at(date(2026, 1, 30), 0, 1)).opened == [term.pk]


def test_a_renewal_of_a_leap_year_term_lasts_as_long_again(am):
    term = contract(customer(am), start=date(2027, 3, 1), end=date(2028, 2, 29), now=at(date(2027, 3, 1)))
    new = record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=at(date(2028, 2, 1)))
    assert (new.start_date, new.end_date) == (date(2028, 3, 1), date(2029, 2, 28))


def test_won_on_a_leap_day_the_contract_ends_on_february_28_and_renews_from_march_1(
    inbound_sdr, ae, am, am_rule
):
    leap_day = datetime(2028, 2, 29, 10, tzinfo=UTC)
    opportunity = accepted(inbound_sdr, ae, now=leap_day)
    update_opportunity(opportunity_id=opportunity.pk, by=ae, amount=Decimal("30000"), close_date=None,
                       next_step="", now=leap_day)  # fmt: skip
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=Stage.objects.get(kind=Stage.Kind.WON).pk,
               now=leap_day)  # fmt: skip

    term = Contract.objects.get()
    assert (term.start_date, term.end_date) == (date(2028, 2, 29), date(2029, 2, 28))
    assert run_renewals(now=at(date(2028, 12, 29))).opened == []  # 61 days out
    assert run_renewals(now=at(date(2028, 12, 30))).opened == [term.pk]
    new = record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=at(date(2029, 2, 1)))
    assert (new.start_date, new.end_date) == (date(2029, 3, 1), date(2030, 2, 28))


# --- configurable windows ------------------------------------------------------------------


def test_wider_windows_open_the_renewal_at_90_days_and_remind_at_14(am, am_manager):
    RenewalSettings.objects.filter(pk=1).update(start_days=90, reminder_days=14)
    term = contract(customer(am), end=END, now=at(SIGNED))

    assert run_renewals(now=at(date(2026, 3, 31))).opened == []  # 91 days out
    assert run_renewals(now=at(date(2026, 4, 1))).opened == [term.pk]  # 90 days out
    assert run_renewals(now=at(date(2026, 5, 31))).reminded == []  # 30 days: not a window any more
    assert run_renewals(now=at(date(2026, 6, 15))).reminded == []  # 15 days out
    assert run_renewals(now=at(date(2026, 6, 16))).reminded == [term.pk]
    assert len(mail.outbox) == 1 and "14 days" in mail.outbox[0].body


def test_a_window_widened_later_opens_for_contracts_already_inside_it_at_the_next_run(am):
    term = contract(customer(am), end=END, now=at(SIGNED))
    assert run_renewals(now=at(date(2026, 4, 10))).opened == []  # 81 days out
    RenewalSettings.objects.filter(pk=1).update(start_days=90)
    assert run_renewals(now=at(date(2026, 4, 11))).opened == [term.pk]


@pytest.mark.parametrize(("start_days", "reminder_days"), [(60, 60), (30, 45)])
def test_a_reminder_at_or_before_the_start_is_refused(start_days, reminder_days):
    windows = RenewalSettings.load()
    windows.start_days, windows.reminder_days = start_days, reminder_days
    with pytest.raises(ValidationError) as refused:
        windows.full_clean()
    assert "fewer days than the start" in refused.value.message_dict["reminder_days"][0]

    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalSettings.objects.filter(pk=1).update(start_days=start_days, reminder_days=reminder_days)
    assert (RenewalSettings.load().start_days, RenewalSettings.load().reminder_days) == (60, 30)


# --- customers without an account manager --------------------------------------------------


def test_a_customer_without_an_am_waits_and_its_windows_open_when_it_gets_one(am, am_manager):
    account = Account.objects.create(name="Orphan AG", domain="orphan.example")
    term = contract(account, end=END, now=at(date(2026, 5, 1)))  # no territory rule names an AM team
    account.refresh_from_db()
    assert account.is_customer and account.account_manager is None
    assert run_renewals(now=at(date(2026, 6, 5))).as_dict()["opened"] == 0
    assert items_of(term) == {} and totals()["renewals"] == 0 and mail.outbox == []

    TerritoryRule.objects.create(name="All customers", team=am.team, position=1000)
    assign_account_manager(account_id=account.pk, am=None, by=am_manager, now=at(date(2026, 6, 6), 10))

    account.refresh_from_db()
    assert account.account_manager == am
    assert set(items_of(term)) == {
        WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_DUE, WorkItem.Kind.RENEWAL_REMINDER,
    }  # fmt: skip
    assert {i.owner for i in items_of(term).values()} == {am}
    term.refresh_from_db()
    assert term.renewal.owner == am
    (message,) = mail.outbox
    assert message.to == [am.email] and "Orphan AG" in message.body


def test_a_new_am_takes_over_the_open_renewal_work(am, am_manager):
    dana = UserFactory(username="dana", role=Role.AM, team=am.team)
    account = customer(am)
    term = contract(account, end=END, now=at(date(2026, 6, 5)))
    log_conversation(contract_id=term.pk, by=am, note="Talked pricing.", now=at(date(2026, 6, 8)))

    assign_account_manager(account_id=account.pk, am=dana, by=am_manager, reason="Casey moved to EMEA.",
                           now=at(date(2026, 6, 9)))  # fmt: skip

    items = items_of(term)
    assert items[WorkItem.Kind.RENEWAL_DUE].owner == dana and items[WorkItem.Kind.RENEWAL_DUE].is_open
    assert items[WorkItem.Kind.RENEWAL_START].owner == am  # done by Casey: stays Casey's
    assert items[WorkItem.Kind.RENEWAL_REMINDER].owner == am
    term.refresh_from_db()
    assert term.renewal.owner == dana
    assert AccountEvent.objects.filter(kind="am_assigned", message__contains="Casey moved").exists()
    before = totals()
    run_renewals(now=at(date(2026, 6, 10)))
    assert totals() == before


# --- the end-date breach -------------------------------------------------------------------


def test_a_renewal_open_after_the_end_date_is_a_breach_for_the_am_manager(am, am_manager, manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 1)))
    log_conversation(contract_id=term.pk, by=am, note="They are thinking about it.", now=at(date(2026, 5, 4)))

    assert sweep_breaches(now=datetime(2026, 6, 30, 21, 59, tzinfo=UTC)).breached == 0  # 23:59 in Berlin
    mail.outbox.clear()
    swept = sweep_breaches(now=datetime(2026, 6, 30, 22, 0, tzinfo=UTC))

    assert (swept.breached, swept.escalated) == (1, 1)
    breach = Breach.objects.get()
    assert breach.work_item.kind == WorkItem.Kind.RENEWAL_DUE and breach.work_item.subject == term
    assert (breach.owner, breach.team) == (am, am.team)
    assert list(Breach.objects.visible_to(am_manager)) == [breach]
    assert not Breach.objects.visible_to(manager).exists() and not Breach.objects.visible_to(am).exists()
    (message,) = mail.outbox
    assert message.to == [am_manager.email]
    assert "Acme GmbH" in message.body and term.get_absolute_url() in message.body
    assert sweep_breaches(now=datetime(2026, 7, 2, tzinfo=UTC)).breached == 0


def test_a_renewal_closed_before_the_end_date_leaves_no_breach(am, am_manager):
    term = contract(customer(am), end=END, now=at(SIGNED))
    run_renewals(now=at(date(2026, 5, 1)))
    log_conversation(contract_id=term.pk, by=am, note="Renewing as is.", now=at(date(2026, 5, 4)))
    record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=at(date(2026, 6, 30), 15))

    assert sweep_breaches(now=datetime(2026, 7, 15, tzinfo=UTC)).breached == 0
    assert not Breach.objects.exists()
    due = items_of(term)[WorkItem.Kind.RENEWAL_DUE]
    assert due.state == WorkItem.State.DONE and due.sla_state() == "met" and due.completed_by == am
