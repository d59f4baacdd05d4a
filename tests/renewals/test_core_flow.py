"""The renewal flow end to end at the service level, on a frozen clock."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from accounts.models import Opportunity, Stage
from accounts.services import move_stage, update_opportunity
from renewals.models import AccountEvent, Contract, RenewalStep
from renewals.services import log_conversation, record_outcome, run_renewals
from tests.factories import accepted, contract, customer
from work.models import WorkItem

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_won_opportunity_makes_a_customer_with_a_contract_and_an_am(inbound_sdr, ae, am, am_rule):
    now = at(date(2026, 3, 2), 10)
    opportunity = accepted(inbound_sdr, ae, now=now)
    update_opportunity(opportunity_id=opportunity.pk, by=ae, amount=Decimal("24000"), close_date=None,
                       next_step="", now=now)  # fmt: skip
    won = Stage.objects.get(kind=Stage.Kind.WON)
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=won.pk, now=now)

    made = Contract.objects.select_related("account").get()
    assert (made.start_date, made.end_date, made.annual_value) == (date(2026, 3, 2), date(2027, 3, 1), 24000)
    assert made.opportunity == opportunity and made.account.account_manager == am
    assert made.account.is_customer
    kinds = set(AccountEvent.objects.values_list("kind", flat=True))
    assert kinds == {"customer", "am_assigned", "contract"}


def test_windows_open_once_each_and_the_reminder_mails_the_am_and_manager(am, am_manager):
    end = date(2026, 6, 30)
    term = contract(customer(am), end=end, now=at(date(2025, 7, 1)))
    assert run_renewals(now=at(date(2026, 4, 30))).as_dict()["opened"] == 0  # 61 days out

    run = run_renewals(now=at(date(2026, 5, 1)))  # 60 days out
    assert run.opened == [term.pk] and run.reminded == []
    renewal = Opportunity.objects.get(kind=Opportunity.Kind.RENEWAL)
    assert (renewal.owner, renewal.amount, renewal.close_date) == (am, Decimal("12000.00"), end)
    items = {i.kind: i for i in WorkItem.objects.all()}
    assert set(items) == {"renewal_start", "renewal_due"}
    # Breaches when the last day is over in the AM's team zone (Berlin, in summer time).
    assert items["renewal_due"].due_at == datetime(2026, 7, 1, tzinfo=ZoneInfo("Europe/Berlin"))

    assert run_renewals(now=at(date(2026, 5, 1), 7)).as_dict()["opened"] == 0
    run = run_renewals(now=at(date(2026, 5, 31)))  # 30 days out
    assert run.reminded == [term.pk] and run.emails == 1
    (message,) = mail.outbox
    assert message.to == [am.email] and message.cc == [am_manager.email]
    assert "Acme GmbH" in message.body
    assert run_renewals(now=at(date(2026, 6, 1))).as_dict() == {
        "opened": 0, "reminded": 0, "skipped": 0, "auto_renewed": 0, "emails": 0,
    }  # fmt: skip
    assert RenewalStep.objects.count() == 2


def test_conversation_then_renewal_closes_the_work_and_links_the_new_term(am):
    term = contract(customer(am), end=date(2026, 6, 30), now=at(date(2025, 7, 1)))
    run_renewals(now=at(date(2026, 5, 1)))
    log_conversation(contract_id=term.pk, by=am, note="Happy; wants 10 more seats.", now=at(date(2026, 5, 4)))
    assert run_renewals(now=at(date(2026, 6, 1))).skipped == [term.pk]
    new = record_outcome(contract_id=term.pk, by=am, outcome="expanded", annual_value=Decimal("15000"),
                         now=at(date(2026, 6, 10)))  # fmt: skip
    assert (new.renewed_from_id, new.start_date, new.end_date) == (
        term.pk,
        date(2026, 7, 1),
        date(2027, 6, 30),
    )
    assert not WorkItem.objects.open().exists()
    renewal = Opportunity.objects.get(kind=Opportunity.Kind.RENEWAL)
    assert (renewal.status, renewal.amount) == ("won", Decimal("15000.00"))
    event = AccountEvent.objects.get(kind="expanded")
    assert event.amount == Decimal("3000.00")


def test_auto_renewals_cost_the_same_statements_however_many_end(am):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renewals.services import auto_renew_ended

    def renew(count: int, end: date) -> int:
        for i in range(count):
            contract(customer(am, name=f"Auto {end} {i}", domain=f"auto{i}-{end}.example"), end=end,
                     auto_renew=True, now=at(date(2025, 1, 2)))  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            renewed = auto_renew_ended(now=at(end + timedelta(days=1)))
        assert len(renewed) == count
        return len(queries)

    assert renew(2, date(2026, 3, 31)) == renew(8, date(2026, 9, 30))
    assert Contract.objects.active().filter(renewed_from__isnull=False).count() == 10
    assert set(Opportunity.objects.filter(kind="renewal").values_list("status", flat=True)) == {"won"}
