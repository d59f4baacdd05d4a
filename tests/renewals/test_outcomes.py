"""Outcomes of a renewal: renewed, expanded, downsized or churned; each closes the contract,
its renewal opportunity and its work, once, by the account's AM or their manager only, and
lands on the account's timeline."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Opportunity, Stage
from renewals.models import CHURN_REASONS, AccountEvent, Contract
from renewals.services import RenewalsError, log_conversation, record_outcome, run_renewals
from team.models import Role
from tests.factories import UserFactory, contract, customer
from work.models import WorkItem

pytestmark = pytest.mark.django_db

END = date(2026, 6, 30)
SIGNED = date(2025, 7, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


DECIDED = at(date(2026, 6, 12))


@pytest.fixture
def term(am, am_manager):
    """Casey's customer Acme, 12,000 a year for 20 seats of CRM Pro, with both windows open
    (the start at 60 days, the reminder at 30)."""
    made = contract(customer(am), end=END, start=SIGNED, now=at(SIGNED), products="CRM Pro", seats=20)
    run_renewals(now=at(date(2026, 5, 1), 6))
    run_renewals(now=at(date(2026, 5, 31), 6))
    assert WorkItem.objects.open().count() == 3
    mail.outbox.clear()
    return made


def snapshot(term: Contract) -> tuple:
    """What a refused outcome must leave exactly as it was."""
    term.refresh_from_db()
    return (
        term.status,
        term.outcome,
        term.closed_at,
        Contract.objects.count(),
        sorted(WorkItem.objects.values_list("kind", "state")),
        sorted(Opportunity.objects.values_list("kind", "status", "amount")),
        AccountEvent.objects.count(),
        term.account.churned_at,
    )


def test_renewed_starts_a_term_the_day_after_for_as_long_and_the_same_value(am, term):
    new = record_outcome(
        contract_id=term.pk, by=am, outcome="renewed", note="Signed on the call.", now=DECIDED
    )

    term.refresh_from_db()
    assert (term.status, term.outcome, term.closed_at) == ("renewed", "renewed", DECIDED)
    assert new.renewed_from == term and term.renewed_by == new
    assert (new.start_date, new.end_date) == (date(2026, 7, 1), date(2027, 6, 30))
    assert (new.annual_value, new.products, new.seats) == (Decimal("12000.00"), "CRM Pro", 20)
    assert (new.source, new.status, new.account_id) == (Contract.Source.RENEWAL, "active", term.account_id)
    assert term.renewal.status == Opportunity.Status.WON and term.renewal.amount == Decimal("12000.00")
    assert term.renewal.stage.kind == Stage.Kind.WON and term.renewal.closed_at == DECIDED
    event = AccountEvent.objects.get(kind="renewed")
    assert (event.contract, event.actor, event.amount) == (term, am, Decimal("0.00"))
    assert "Wed 1 Jul 2026 to Wed 30 Jun 2027" in event.message and "Signed on the call." in event.message
    assert not new.events.filter(kind="contract").exists()  # the outcome's event says it once
    assert not WorkItem.objects.for_subject(new).exists()  # its own windows open next year


def test_a_renewal_at_another_value_is_refused_and_changes_nothing(am, term):
    before = snapshot(term)
    with pytest.raises(RenewalsError) as refused:
        record_outcome(
            contract_id=term.pk, by=am, outcome="renewed", annual_value=Decimal("13000"), now=DECIDED
        )
    assert str(refused.value) == (
        "A renewal on the same value is €12,000 a year; a different value is an expansion or a downsize."
    )
    assert refused.value.field == "annual_value"
    assert snapshot(term) == before


def test_a_renewal_can_change_the_term_but_keeps_the_value(am, term):
    new = record_outcome(contract_id=term.pk, by=am, outcome="renewed", end_date=date(2028, 6, 30), seats=22,
                         now=DECIDED)  # fmt: skip
    assert (new.start_date, new.end_date, new.seats, new.annual_value) == (
        date(2026, 7, 1), date(2028, 6, 30), 22, Decimal("12000.00"),
    )  # fmt: skip


def test_expanded_needs_a_higher_value_and_records_the_upsell(am, term):
    before = snapshot(term)
    for value in (Decimal("12000"), Decimal("11000")):
        with pytest.raises(RenewalsError, match=r"An expansion is worth more than €12,000 a year\."):
            record_outcome(contract_id=term.pk, by=am, outcome="expanded", annual_value=value, now=DECIDED)
    with pytest.raises(RenewalsError, match="worth more"):
        record_outcome(contract_id=term.pk, by=am, outcome="expanded", now=DECIDED)  # same value by default
    assert snapshot(term) == before

    new = record_outcome(contract_id=term.pk, by=am, outcome="expanded", annual_value=Decimal("16500"),
                         seats=30, now=DECIDED)  # fmt: skip

    assert (new.annual_value, new.seats, new.start_date) == (Decimal("16500.00"), 30, date(2026, 7, 1))
    term.refresh_from_db()
    assert term.outcome == "expanded" and term.status == "renewed"
    assert term.renewal.status == "won" and term.renewal.amount == Decimal("16500.00")
    event = AccountEvent.objects.get(kind="expanded")
    assert event.amount == Decimal("4500.00") and "(+€4,500)" in event.message


def test_downsized_needs_a_lower_value_and_records_the_loss(am, term):
    for value in (Decimal("12000"), Decimal("15000")):
        with pytest.raises(RenewalsError, match=r"A downsize is worth less than €12,000 a year\."):
            record_outcome(contract_id=term.pk, by=am, outcome="downsized", annual_value=value, now=DECIDED)
    assert Contract.objects.count() == 1

    new = record_outcome(contract_id=term.pk, by=am, outcome="downsized", annual_value=Decimal("9000"),
                         seats=15, now=DECIDED)  # fmt: skip

    assert (new.annual_value, new.seats) == (Decimal("9000.00"), 15)
    term.refresh_from_db()
    assert term.outcome == "downsized" and term.renewal.amount == Decimal("9000.00")
    event = AccountEvent.objects.get(kind="downsized")
    assert event.amount == Decimal("-3000.00") and "(-€3,000)" in event.message


def test_an_unknown_outcome_or_bad_terms_are_refused_with_the_field(am, term):
    before = snapshot(term)
    with pytest.raises(RenewalsError) as refused:
        record_outcome(contract_id=term.pk, by=am, outcome="paused", now=DECIDED)
    assert refused.value.field == "outcome"
    with pytest.raises(RenewalsError) as refused:
        record_outcome(contract_id=term.pk, by=am, outcome="renewed", end_date=date(2026, 7, 1), now=DECIDED)
    assert refused.value.field == "end_date" and "after the start date" in str(refused.value)
    with pytest.raises(RenewalsError) as refused:
        record_outcome(
            contract_id=term.pk, by=am, outcome="downsized", annual_value=Decimal("-1"), now=DECIDED
        )
    assert refused.value.field == "annual_value"
    for end in (date(9999, 12, 31), date(2101, 1, 1), date(1989, 12, 31)):
        with pytest.raises(RenewalsError) as refused:
            record_outcome(contract_id=term.pk, by=am, outcome="renewed", end_date=end, now=DECIDED)
        assert refused.value.field == "end_date" and "between 1990-01-01 and 2100-12-31" in str(refused.value)
    assert snapshot(term) == before


def test_a_term_stored_ending_in_9999_is_refused_a_successor_not_a_500(client_for, am, term):
    """Such terms were accepted before the range was enforced; their outcome page still opens."""
    Contract.objects.filter(pk=term.pk).update(end_date=date(9999, 12, 31))
    before = snapshot(term)
    with pytest.raises(RenewalsError) as refused:
        record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=DECIDED)
    assert refused.value.field == "start_date"
    assert snapshot(term) == before
    assert client_for(am).get(term.get_absolute_url()).status_code == 200
    response = client_for(am).post(reverse("renewals:outcome", args=[term.pk]), {"outcome": "renewed"})
    assert response.status_code == 400 and "between 1990-01-01 and 2100-12-31" in response.content.decode()
    assert snapshot(term) == before


@pytest.mark.parametrize("reason", ["", "They were sad", "price / budget"])
def test_churn_needs_one_of_the_reasons(am, term, reason):
    before = snapshot(term)
    with pytest.raises(RenewalsError) as refused:
        record_outcome(contract_id=term.pk, by=am, outcome="churned", churn_reason=reason, now=DECIDED)
    assert refused.value.field == "churn_reason" and "Chose a competitor" in str(refused.value)
    assert snapshot(term) == before


def test_churn_of_the_last_contract_churns_the_account_and_loses_the_renewal(am, term):
    reason = CHURN_REASONS[1]
    closed = record_outcome(contract_id=term.pk, by=am, outcome="churned", churn_reason=reason,
                            note="Moved to a cheaper tool.", now=DECIDED)  # fmt: skip

    assert closed == term
    term.refresh_from_db()
    assert (term.status, term.outcome, term.churn_reason) == ("churned", "churned", reason)
    assert term.account.churned_at == DECIDED and not term.account.is_customer
    assert (term.renewal.status, term.renewal.lost_reason) == (Opportunity.Status.LOST, reason)
    assert term.renewal.stage.kind == Stage.Kind.LOST
    assert Contract.objects.count() == 1  # no new term
    event = AccountEvent.objects.get(kind="churned")
    assert (
        event.amount == Decimal("-12000.00") and reason in event.message and "cheaper tool" in event.message
    )
    assert not WorkItem.objects.open().exists()


def test_churn_of_one_contract_leaves_a_customer_with_another_active_one(am, term):
    contract(term.account, end=date(2027, 3, 31), value="4000", products="Add-on", now=at(SIGNED))
    record_outcome(
        contract_id=term.pk, by=am, outcome="churned", churn_reason="Missing features", now=DECIDED
    )
    term.account.refresh_from_db()
    assert term.account.churned_at is None and term.account.is_customer


def test_recording_a_second_outcome_is_refused(am, am_manager, term):
    record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=DECIDED)
    before = snapshot(term)
    for outcome, extra in (("renewed", {}), ("churned", {"churn_reason": "Other"})):
        with pytest.raises(RenewalsError, match="already recorded: renewed"):
            record_outcome(contract_id=term.pk, by=am_manager, outcome=outcome, now=DECIDED, **extra)
    with pytest.raises(RenewalsError, match="already renewed"):
        log_conversation(contract_id=term.pk, by=am, note="Too late.", now=DECIDED)
    assert snapshot(term) == before
    assert Opportunity.objects.filter(kind="renewal").count() == 1


@pytest.mark.parametrize("who", ["other_am", "ae", "inbound_sdr", "other_manager"])
def test_only_the_am_or_their_manager_records_an_outcome(request, term, who):
    if who == "other_am":
        user = UserFactory(username="dana", role=Role.AM, team=term.account.account_manager.team)
    else:
        user = request.getfixturevalue(who)
    before = snapshot(term)
    with pytest.raises(RenewalsError, match="Only the account's AM"):
        record_outcome(contract_id=term.pk, by=user, outcome="renewed", now=DECIDED)
    with pytest.raises(RenewalsError, match="Only the account's AM"):
        log_conversation(contract_id=term.pk, by=user, note="Sneaky.", now=DECIDED)
    assert snapshot(term) == before


def test_the_am_manager_may_record_the_outcome(am_manager, term):
    new = record_outcome(contract_id=term.pk, by=am_manager, outcome="renewed", now=DECIDED)
    assert new.created_by == am_manager
    assert AccountEvent.objects.get(kind="renewed").actor == am_manager
    assert set(WorkItem.objects.values_list("completed_by", flat=True)) == {am_manager.pk}


def test_an_outcome_before_the_window_opened_creates_a_closed_renewal(am):
    early = contract(customer(am), end=END, now=at(SIGNED))
    assert early.renewal is None

    new = record_outcome(contract_id=early.pk, by=am, outcome="expanded", annual_value=Decimal("14000"),
                         now=at(date(2026, 2, 1)))  # fmt: skip

    early.refresh_from_db()
    renewal = early.renewal
    assert renewal.kind == Opportunity.Kind.RENEWAL and renewal.status == Opportunity.Status.WON
    assert (renewal.owner, renewal.amount, renewal.close_date) == (am, Decimal("14000.00"), END)
    assert Opportunity.objects.filter(kind="renewal").count() == 1
    # Nothing opens later for the closed term, and the new one's windows are a year away.
    assert run_renewals(now=at(date(2026, 6, 1))).as_dict() == {
        "opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0,
    }  # fmt: skip
    assert not WorkItem.objects.exists() and mail.outbox == []
    assert new.end_date == date(2027, 6, 30)


def test_a_churn_before_the_window_opened_creates_a_lost_renewal(am):
    early = contract(customer(am), end=END, now=at(SIGNED))
    record_outcome(contract_id=early.pk, by=am, outcome="churned", churn_reason="Champion left",
                   now=at(date(2026, 1, 15)))  # fmt: skip
    early.refresh_from_db()
    assert (early.renewal.status, early.renewal.lost_reason) == ("lost", "Champion left")


def test_an_outcome_completes_every_renewal_item(am, term):
    assert set(WorkItem.objects.open().values_list("kind", flat=True)) == {
        WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_REMINDER, WorkItem.Kind.RENEWAL_DUE,
    }  # fmt: skip
    record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=DECIDED)
    items = list(WorkItem.objects.for_subject(term))
    assert len(items) == 3
    assert {(i.state, i.completed_at, i.completed_by) for i in items} == {(WorkItem.State.DONE, DECIDED, am)}
    due = next(i for i in items if i.kind == WorkItem.Kind.RENEWAL_DUE)
    assert due.sla_state() == "met"


def test_the_account_timeline_tells_the_renewal_story(am, term):
    log_conversation(contract_id=term.pk, by=am, note="Wants 5 more seats.", now=at(date(2026, 6, 2)))
    new = record_outcome(contract_id=term.pk, by=am, outcome="expanded", annual_value=Decimal("15000"),
                         now=DECIDED)  # fmt: skip
    record_outcome(contract_id=new.pk, by=am, outcome="churned", churn_reason="Price / budget",
                   now=at(date(2027, 5, 1)))  # fmt: skip

    timeline = list(term.account.events.order_by("at", "id").values_list("kind", "contract_id"))
    assert timeline == [
        ("contract", term.pk),
        ("renewal_opened", term.pk),
        ("reminder", term.pk),
        ("conversation", term.pk),
        ("expanded", term.pk),
        ("churned", new.pk),
    ]
    assert AccountEvent.objects.get(kind="conversation").message == "Wants 5 more seats."
    assert AccountEvent.objects.get(kind="churned").amount == Decimal("-15000.00")
